/**
 * `harmony-hpke inspect`: tells what a file is and shows it — key config, router key (public part),
 * sealed request or envelope (header and sizes, never plaintext), session (never the secret),
 * SSE stream (events and sizes; decrypted with --session), conversation, Harmony completion.
 */
import {
  describeSession,
  parseKeyConfigList,
  parseRouterKeyFile,
  parseSealedRequest,
  parseSession,
  keyConfigOf,
  type KeyConfig,
} from '../hpke/index.js';
import { aeadParams } from '../hpke/suite.js';
import { createParser } from 'eventsource-parser';
import { decryptStream } from '../sse/index.js';
import { Conversation, Role } from '../harmony/model.js';
import { StreamableParser } from '../harmony/streamable-parser.js';
import { nodeHarmonyEncoding } from '../node/harmony.js';
import type { CliContext } from '../cli/context.js';
import { ExitCode } from '../cli/exit-codes.js';
import { readInputFile } from '../cli/input.js';
import { terminalFor, type Terminal } from '../cli/output.js';
import { describeKeyConfig } from '../cli/key-description.js';
import { messageRecord } from '../cli/sink-json.js';
import { readSession } from '../client/session-store.js';
import { HarmonyHpkeError, UsageError } from '../core/errors.js';

export interface InspectOptions {
  readonly session?: string;
  readonly json?: boolean;
}

type Report = { kind: string } & Record<string, unknown>;

function suiteName(kdfId: number, aeadId: number): string {
  let aead: string;
  try {
    aead = aeadParams(aeadId).name;
  } catch {
    aead = `unknown AEAD 0x${aeadId.toString(16).padStart(4, '0')}`;
  }
  return `${kdfId === 1 ? 'HKDF-SHA256' : `KDF 0x${kdfId.toString(16).padStart(4, '0')}`} + ${aead}`;
}

function describeConfig(config: KeyConfig): Record<string, unknown> {
  return {
    ...describeKeyConfig(config),
    // Here each suite is named too.
    suites: config.suites.map((suite) => ({ kdf_id: suite.kdfId, aead_id: suite.aeadId, name: suiteName(suite.kdfId, suite.aeadId) })),
  };
}

function describeSealed(body: Uint8Array): Report {
  const sealed = parseSealedRequest(body);
  const { nn } = aeadParams(sealed.header.aeadId);
  return {
    kind: 'sealed-request',
    key_id: sealed.header.keyId,
    kem_id: sealed.header.kemId,
    kdf_id: sealed.header.kdfId,
    aead_id: sealed.header.aeadId,
    suite: suiteName(sealed.header.kdfId, sealed.header.aeadId),
    enc: Buffer.from(sealed.enc).toString('base64url'),
    total_bytes: body.byteLength,
    ciphertext_bytes: sealed.ciphertext.byteLength,
    padded_plaintext_bytes: sealed.ciphertext.byteLength - 16,
    nonce_bytes: nn,
  };
}

/** Event names, ids and sizes, as eventsource-parser sees them (the same parser decode uses). */
function listSseEvents(text: string): { events: Array<Record<string, unknown>>; comments: number } {
  const events: Array<Record<string, unknown>> = [];
  let comments = 0;
  const parser = createParser({
    onEvent: (event) => {
      events.push({
        event: event.event ?? 'message',
        ...(event.id !== undefined ? { id: event.id } : {}),
        data_bytes: Buffer.byteLength(event.data),
      });
    },
    onComment: () => {
      comments += 1;
    },
  });
  parser.feed(text);
  // A last event without its blank line is not dispatched, as in a browser's EventSource.
  return { events, comments };
}

async function* once(text: string): AsyncIterable<string> {
  yield text;
}

async function describeSse(text: string, sessionPath: string | undefined): Promise<Report> {
  const { events, comments } = listSseEvents(text);
  const report: Report = { kind: 'sse-stream', events: events.length, heartbeats: comments, event_list: events };
  if (sessionPath !== undefined) {
    const session = await readSession(sessionPath);
    const chunks: Array<Record<string, unknown>> = [];
    const encoding = nodeHarmonyEncoding();
    const parser = new StreamableParser(encoding, Role.Assistant);
    let verified = false;
    let error: string | undefined;
    try {
      for await (const event of decryptStream(once(text), session)) {
        if (event.type !== 'chunk') continue;
        // A chunk's channel as `decode --raw` labels it: the one it leaves the parser in, or for a
        // closing token the one it closed.
        const channelBefore = parser.pendingChannel;
        if (event.message.t === 'tokens') for (const id of event.message.ids) parser.process(id);
        const channel = parser.pendingChannel ?? channelBefore ?? null;
        chunks.push({
          index: event.index,
          final: event.final,
          type: event.message.t,
          ...(event.message.t === 'tokens' ? { text: event.message.text, channel } : {}),
          ...(event.message.t === 'end' ? { finish: event.message.finish, usage: event.message.usage } : {}),
          ...(event.message.t === 'error' ? { code: event.message.code, message: event.message.message } : {}),
        });
        if (event.final) verified = true;
      }
      parser.processEos();
    } catch (caught) {
      error = caught instanceof HarmonyHpkeError ? `${caught.message} (${caught.code})` : String(caught);
    }
    Object.assign(report, {
      decrypted: chunks,
      verified,
      messages: parser.messages.map(messageRecord),
      ...(error ? { error } : {}),
    });
  }
  return report;
}

function describeCompletion(tokens: number[] | string): Report {
  const encoding = nodeHarmonyEncoding();
  const ids = typeof tokens === 'string' ? encoding.encode(tokens, { allowedSpecial: 'all' }) : tokens;
  const messages = encoding.parseMessagesFromCompletionTokens(ids, Role.Assistant);
  return { kind: 'harmony-completion', tokens: ids.length, messages: messages.map(messageRecord) };
}

async function identify(bytes: Buffer, options: InspectOptions): Promise<Report> {
  const text = bytes.toString('utf8');
  const trimmed = text.trim();
  if (trimmed.startsWith('{')) {
    let value: Record<string, unknown>;
    try {
      value = JSON.parse(trimmed) as Record<string, unknown>;
    } catch {
      throw new UsageError('INSPECT_UNKNOWN', 'the file looks like JSON but does not parse');
    }
    if (typeof value['format'] === 'string' && value['format'].startsWith('harmony-hpke-session/')) {
      return { kind: 'session', ...describeSession(parseSession(trimmed)) };
    }
    if (typeof value['format'] === 'string' && value['format'].startsWith('harmony-hpke-key/')) {
      const key = parseRouterKeyFile(trimmed);
      return { kind: 'router-key', private_key: '(present, not shown)', ...describeConfig(keyConfigOf(key)) };
    }
    if (typeof value['url'] === 'string' && typeof value['body'] === 'string') {
      return {
        kind: 'envelope',
        url: value['url'],
        rid: value['rid'] ?? null,
        session: value['session'] ?? null,
        request: describeSealed(Buffer.from(value['body'], 'base64')),
      };
    }
    if (Array.isArray(value['messages'])) {
      const conversation = Conversation.fromJson(trimmed);
      const encoding = nodeHarmonyEncoding();
      const tokens = encoding.renderConversationForCompletion(conversation, Role.Assistant);
      return {
        kind: 'conversation',
        messages: conversation.messages.length,
        prompt_tokens: tokens.length,
        rendered: encoding.decode(tokens),
      };
    }
    throw new UsageError('INSPECT_UNKNOWN', 'unrecognised JSON file (not a session, key, envelope or conversation)');
  }
  if (/^(\s*:[^\n]*\n)*\s*(event|id|data|retry):/.test(text) || text.startsWith('\uFEFFevent:')) {
    return describeSse(text, options.session);
  }
  if (/^\s*\d+(\s+\d+)*\s*$/.test(text)) {
    return describeCompletion(trimmed.split(/\s+/).map(Number));
  }
  if (text.includes('<|channel|>') || text.includes('<|message|>')) return describeCompletion(text);
  // Binary: a key config list, or a sealed request body.
  try {
    const configs = parseKeyConfigList(bytes);
    return { kind: 'key-config', configs: configs.map(describeConfig) };
  } catch {
    // not a key config
  }
  try {
    return describeSealed(bytes);
  } catch {
    throw new UsageError('INSPECT_UNKNOWN', 'cannot tell what this file is');
  }
}

function printReport(terminal: Terminal, report: Report, indent = ''): void {
  for (const [key, value] of Object.entries(report)) {
    if (key === 'kind' && indent === '') {
      terminal.writeOut(`${terminal.out.bold(String(value))}\n`);
      continue;
    }
    if (Array.isArray(value)) {
      terminal.writeOut(`${indent}${key}:\n`);
      value.forEach((item, index) => {
        if (typeof item === 'object' && item !== null) {
          terminal.writeOut(`${indent}  [${index}]\n`);
          printReport(terminal, { kind: '', ...item } as Report, `${indent}    `);
        } else terminal.writeOut(`${indent}  - ${String(item)}\n`);
      });
    } else if (typeof value === 'object' && value !== null) {
      terminal.writeOut(`${indent}${key}:\n`);
      printReport(terminal, { kind: '', ...value } as Report, `${indent}  `);
    } else if (key !== 'kind') {
      const shown = typeof value === 'string' && value.includes('\n') ? `\n${value.replace(/^/gm, `${indent}  | `)}` : ` ${String(value)}`;
      terminal.writeOut(`${indent}${key}:${shown}\n`);
    }
  }
}

export async function run(ctx: CliContext, fileArg: string | undefined, options: InspectOptions): Promise<number> {
  const terminal = terminalFor(ctx, options);
  const input = await readInputFile(ctx, fileArg, 'file');
  const report = await identify(input.bytes, options);
  if (options.json) terminal.jsonLine(report);
  else printReport(terminal, report);
  return ExitCode.Ok;
}
