/**
 * Differential fixtures: seeded random inputs with the outputs openai/harmony v0.0.8 (the Rust
 * crate, built and run offline) gave for them. How they were generated: docs/harmony-differential.md.
 *
 * Every case must agree with the reference exactly, with one allowed difference: where the
 * reference's non-strict parser fails, our lenient parser may recover (it must never fail where
 * the reference's non-strict mode succeeds, and where both succeed the results must be equal).
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { brotliDecompressSync } from 'node:zlib';
import { describe, expect, test } from 'vitest';
import { HarmonyHpkeError } from '../../src/core/errors.js';
import {
  Conversation,
  Message,
  StreamableParser,
  loadHarmonyEncoding,
  type Role,
} from '../../src/harmony/index.js';
import { repoRoot } from './helpers.js';

const dir = path.join(repoRoot, 'fixtures', 'harmony-differential');
const enc = loadHarmonyEncoding('HarmonyGptOss');

interface Fixture {
  in: Record<string, unknown> & { id: number; kind: string };
  out: unknown;
}

function load(category: string): Fixture[] {
  const text = brotliDecompressSync(readFileSync(path.join(dir, `${category}.jsonl.br`))).toString('utf8');
  return text
    .split('\n')
    .filter((line) => line.length > 0)
    .map((line) => JSON.parse(line) as Fixture);
}

type Outcome = { ok: unknown } | { err: string };

function run<T>(fn: () => T): Outcome {
  try {
    return { ok: fn() };
  } catch (error) {
    if (!(error instanceof HarmonyHpkeError)) return { err: `UNTYPED ${String(error)}` };
    return { err: `${error.code}: ${error.message}` };
  }
}

/** Field order is not part of a message: compare with keys sorted. */
function sorted(record: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.keys(record).sort().map((key) => [key, record[key]]));
}

/** Rust serde's Message: content a plain string when it is one text; optional fields omitted. */
function normalizeRustMessage(raw: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...raw };
  if (typeof out['content'] === 'string') out['content'] = [{ type: 'text', text: out['content'] }];
  if (out['name'] === null) delete out['name'];
  return sorted(out);
}

function normalizeOurMessage(message: Message): Record<string, unknown> {
  const out = message.toDict() as Record<string, unknown>;
  if (out['name'] === null) delete out['name'];
  return sorted(out);
}

/** Returns undefined when we agree with the reference, else a description of the difference. */
function check(fx: Fixture): string | undefined {
  const c = fx.in;
  const ref = fx.out as Record<string, unknown>;
  const same = (ours: unknown, theirs: unknown) => JSON.stringify(ours) === JSON.stringify(theirs);
  const compareOutcome = (ours: Outcome, theirs: Outcome, lenient = false): string | undefined => {
    if ('err' in theirs) {
      if ('err' in ours) return ours.err.startsWith('UNTYPED') ? ours.err : undefined;
      return lenient ? undefined : `reference failed (${theirs.err}) but we gave ${JSON.stringify(ours.ok).slice(0, 300)}`;
    }
    if ('err' in ours) return `we failed (${ours.err}), reference gave ${JSON.stringify(theirs.ok).slice(0, 300)}`;
    return same(ours.ok, theirs.ok) ? undefined : `differs:\n ours ${JSON.stringify(ours.ok).slice(0, 600)}\n ref  ${JSON.stringify(theirs.ok).slice(0, 600)}`;
  };
  switch (c.kind) {
    case 'encode': {
      const text = c['text'] as string;
      const ord = enc.encodeOrdinary(text);
      const spec = enc.encode(text, { allowedSpecial: 'all' });
      return same({ ord, spec }, ref) ? undefined : `differs: ours ${JSON.stringify({ ord, spec })} ref ${JSON.stringify(ref)}`;
    }
    case 'decode': {
      const tokens = c['tokens'] as number[];
      const utf8 = run(() => enc.decodeUtf8(tokens));
      const bytes = run(() => Buffer.from(enc.decodeBytes(tokens)).toString('hex'));
      return compareOutcome(utf8, ref['utf8'] as Outcome) ?? compareOutcome(bytes, ref['bytes'] as Outcome);
    }
    case 'render': {
      const ours = run(() => {
        const convo = Conversation.fromJson(c['convo'] as string);
        const config = c['auto_drop'] === undefined ? undefined : { autoDropAnalysis: c['auto_drop'] as boolean };
        if (c['fn'] === 'completion') return enc.renderConversationForCompletion(convo, c['role'] as Role, config);
        if (c['fn'] === 'training') return enc.renderConversationForTraining(convo, config);
        return enc.renderConversation(convo, config);
      });
      return compareOutcome(ours, ref as Outcome);
    }
    case 'render_msg': {
      const ours = run(() => enc.render(Message.fromJson(c['msg'] as string), { conversationHasFunctionTools: c['fn_tools'] as boolean }));
      return compareOutcome(ours, ref as Outcome);
    }
    case 'parse':
    case 'stream': {
      const strict = c['strict'] as boolean;
      const parser = new StreamableParser(enc, c['role'] as Role | null, { strict });
      const steps: unknown[] = [];
      let err: string | null = null;
      for (const token of c['tokens'] as number[]) {
        const r = run(() => parser.process(token));
        if ('err' in r) {
          err = r.err;
          break;
        }
        steps.push([parser.currentRole ?? null, parser.currentChannel ?? null, parser.currentRecipient ?? null, parser.currentContentType ?? null, parser.lastContentDelta ?? null, parser.messages.length]);
      }
      if (err === null) {
        const r = run(() => parser.processEos());
        if ('err' in r) err = r.err;
      }
      const ours = parser.messages.map(normalizeOurMessage);
      let theirErr: string | null;
      let theirMessages: Record<string, unknown>[] | undefined;
      let theirSteps: unknown[] | undefined;
      if (c.kind === 'parse') {
        theirErr = 'err' in ref ? (ref['err'] as string) : null;
        theirMessages = 'ok' in ref ? (ref['ok'] as Record<string, unknown>[]) : undefined;
      } else {
        theirErr = ref['err'] as string | null;
        theirMessages = ref['messages'] as Record<string, unknown>[];
        theirSteps = ref['steps'] as unknown[];
      }
      if (err?.startsWith('UNTYPED')) return err;
      if (strict || parser.recoveries.length === 0) {
        // Exactly the reference (lenient mode that recovered nothing must be the reference's non-strict mode).
        if ((err === null) !== (theirErr === null)) return `error mismatch: ours ${err} ref ${theirErr}`;
        if (theirSteps && !same(steps, theirSteps.slice(0, steps.length))) {
          const i = steps.findIndex((step, k) => !same(step, theirSteps[k]));
          return `steps differ at ${i}: ours ${JSON.stringify(steps[i])} ref ${JSON.stringify(theirSteps[i])}`;
        }
        if (err !== null) return undefined;
        const theirs = theirMessages!.map(normalizeRustMessage);
        return same(ours, theirs) ? undefined : `messages differ:\n ours ${JSON.stringify(ours).slice(0, 500)}\n ref  ${JSON.stringify(theirs).slice(0, 500)}`;
      }
      // Lenient mode recovered from something: it may accept more, but never fail where the reference's non-strict mode succeeds.
      if (err !== null && theirErr === null) return `lenient parse failed (${err}) where the reference succeeded`;
      return undefined;
    }
    default:
      return `unknown kind ${c.kind}`;
  }
}

const CATEGORIES = ['encode', 'encode-long', 'decode', 'render', 'render-invalid', 'render-message', 'parse', 'stream'];

describe('differential fixtures from openai/harmony v0.0.8', () => {
  for (const category of CATEGORIES) {
    test(category, () => {
      const fixtures = load(category);
      expect(fixtures.length).toBeGreaterThan(0);
      const failures: string[] = [];
      for (const fx of fixtures) {
        const problem = check(fx);
        if (problem !== undefined) failures.push(`case ${fx.in.id}: ${problem}\n  input: ${JSON.stringify(fx.in).slice(0, 400)}`);
      }
      if (process.env['DIFF_REPORT']) console.log(`${category}: ${failures.length}/${fixtures.length} differ`);
      expect(failures.slice(0, 5).join('\n\n'), `${failures.length} of ${fixtures.length} ${category} cases differ from the reference`).toBe('');
    }, 300_000);
  }
});
