/**
 * `harmony-hpke smoke`: what a CI job runs against a deployed router. Checks the key config (and
 * pin), sends each canary prompt, verifies the stream end to end (authenticated final, strict
 * Harmony, a final channel, optional regex), reports timings; exits with the first failure's code.
 */
import type { CliContext } from '../cli/context.js';
import { ExitCode, exitCodeForFamily } from '../cli/exit-codes.js';
import { Terminal, terminalFor, type OutputStream } from '../cli/output.js';
import { requireCompleteAnswer } from '../cli/stream-outcome.js';
import { streamAnswer } from './answer.js';
import { resolveRouterSettings } from '../client/config.js';
import { exchange } from '../client/exchange.js';
import { writeUserFile } from '../node/fs-atomic.js';
import { resolveRouterKey } from '../client/keys.js';
import { buildConversation, buildPayload } from '../client/request.js';
import { CheckFailedError, HarmonyHpkeError, HarmonyParseError, UsageError } from '../core/errors.js';
import { timeoutsFrom, type GlobalOptions, type RouterFlagOptions, type TimeoutOptions } from '../cli/flags.js';
import { checkToolCall, parseToolCallExpectation } from '../cli/smoke-tools.js';
import { conversationWithTools } from '../client/tools.js';

export interface SmokeOptions extends GlobalOptions, RouterFlagOptions, TimeoutOptions {
  readonly prompt?: string[];
  readonly expect?: string;
  readonly maxTokens?: number;
  readonly junit?: string;
  readonly json?: boolean;
  readonly tools?: string[];
  readonly expectToolCall?: string;
  readonly expectArgs?: string;
}

interface CaseResult {
  readonly name: string;
  readonly ok: boolean;
  readonly seconds: number;
  readonly ttfbMs?: number | undefined;
  readonly firstFinalMs?: number | undefined;
  readonly tokensPerSecond?: number | undefined;
  readonly finish?: string | undefined;
  readonly failure?: { code: string; message: string; exitCode: number } | undefined;
}

const SINK: OutputStream = { write: () => true, isTTY: false };

function failureOf(error: unknown): NonNullable<CaseResult['failure']> {
  if (error instanceof HarmonyHpkeError) {
    return { code: error.code, message: error.message, exitCode: exitCodeForFamily(error.family) };
  }
  return { code: 'INTERNAL', message: error instanceof Error ? error.message : String(error), exitCode: ExitCode.Internal };
}

/** Escapes for XML attributes; characters XML 1.0 cannot carry at all (most C0 controls) become U+FFFD. */
function xmlEscape(text: string): string {
  return text
    // eslint-disable-next-line no-control-regex
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]/g, '\ufffd')
    .replace(/[<>&"'\t\n\r]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;', '\t': '&#9;', '\n': '&#10;', '\r': '&#13;' })[c] ?? c);
}

export function junitXml(router: string, results: readonly CaseResult[]): string {
  const failures = results.filter((result) => !result.ok).length;
  const time = results.reduce((sum, result) => sum + result.seconds, 0);
  const cases = results
    .map((result) => {
      const open = `    <testcase classname="harmony-hpke.smoke" name="${xmlEscape(result.name)}" time="${result.seconds.toFixed(3)}"`;
      if (result.ok) return `${open}/>`;
      const failure = result.failure as NonNullable<CaseResult['failure']>;
      return `${open}>\n      <failure type="${xmlEscape(failure.code)}" message="${xmlEscape(failure.message)}"/>\n    </testcase>`;
    })
    .join('\n');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<testsuites tests="${results.length}" failures="${failures}" time="${time.toFixed(3)}">\n  <testsuite name="harmony-hpke smoke ${xmlEscape(router)}" tests="${results.length}" failures="${failures}" time="${time.toFixed(3)}">\n${cases}\n  </testsuite>\n</testsuites>\n`;
}

export async function run(ctx: CliContext, options: SmokeOptions): Promise<number> {
  const terminal = terminalFor(ctx, options);
  const settings = await resolveRouterSettings(options, ctx.env);
  if (settings.router === undefined) throw new UsageError('NO_ROUTER', 'smoke needs --router URL (or HARMONY_HPKE_ROUTER)');
  const router = settings.router;
  let expect: RegExp | undefined;
  if (options.expect !== undefined) {
    try {
      expect = new RegExp(options.expect);
    } catch {
      throw new UsageError('USAGE_BAD_REGEX', `--expect is not a valid regular expression: ${options.expect}`);
    }
  }
  const toolExpectation = parseToolCallExpectation(options);
  const timeouts = timeoutsFrom(options, 120_000);
  const results: CaseResult[] = [];
  const report = (result: CaseResult) => {
    results.push(result);
    if (options.json) {
      terminal.jsonLine({
        type: 'case',
        name: result.name,
        ok: result.ok,
        seconds: Number(result.seconds.toFixed(3)),
        ttfb_ms: result.ttfbMs === undefined ? null : Math.round(result.ttfbMs),
        first_final_ms: result.firstFinalMs === undefined ? null : Math.round(result.firstFinalMs),
        tokens_per_second: result.tokensPerSecond === undefined ? null : Number(result.tokensPerSecond.toFixed(1)),
        finish: result.finish ?? null,
        ...(result.failure ? { code: result.failure.code, message: result.failure.message, exit_code: result.failure.exitCode } : {}),
      });
      return;
    }
    const status = result.ok ? terminal.out.green('ok  ') : terminal.out.red('FAIL');
    const ms = (value: number | undefined) => (value === undefined ? 'n/a' : `${Math.round(value)}ms`);
    const figures = !result.ok
      ? ` ${result.failure?.message} (${result.failure?.code})`
      : result.tokensPerSecond === undefined
        ? ` (${result.finish})`
        : ` ttfb=${ms(result.ttfbMs)} first_final=${ms(result.firstFinalMs)} ${result.tokensPerSecond.toFixed(1)} tok/s finish=${result.finish}`;
    terminal.writeOut(`${status} ${result.name.replace(/\s*[\r\n]+\s*/g, ' ')}${figures}\n`);
  };

  const keyStarted = performance.now();
  try {
    const key = await resolveRouterKey({ router, keysFile: settings.keysFile, keyPin: settings.keyPin, keyPinSource: settings.keyPinSource, env: ctx.env, timeouts, signal: ctx.signal });
    report({ name: `key config ${key.fingerprint}`, ok: true, seconds: (performance.now() - keyStarted) / 1000, finish: `kid ${key.config.keyId}` });
  } catch (error) {
    report({ name: 'key config', ok: false, seconds: (performance.now() - keyStarted) / 1000, failure: failureOf(error) });
  }

  if (results[0]?.ok) {
    for (const prompt of options.prompt?.length ? options.prompt : ['What is 2+2?']) {
      const started = performance.now();
      try {
        const conversation = await conversationWithTools(await buildConversation({ prompt }), settings, options);
        const payload = buildPayload(conversation, { ...settings, maxTokens: options.maxTokens ?? settings.maxTokens });
        const result = await exchange({ router, keysFile: settings.keysFile, keyPin: settings.keyPin, keyPinSource: settings.keyPinSource, env: ctx.env, payload, timeouts, signal: ctx.signal });
        const silent = new Terminal({ stdout: SINK, stderr: SINK, env: {} });
        const outcome = await streamAnswer(result.response.body, result.session, silent, {
          strict: true,
          show: ['final'],
          idleMs: timeouts.idleMs,
          startedAt: started,
          check: (answer) => {
            if (toolExpectation) checkToolCall(answer, toolExpectation);
            else {
              requireCompleteAnswer(answer);
              if (!answer.messages.some((message) => message.channel === 'final')) {
                throw new HarmonyParseError('NO_FINAL_CHANNEL', 'the answer has no final channel message');
              }
            }
          },
        });
        if (expect && !toolExpectation && !expect.test(outcome.answer)) {
          const shown = outcome.answer.length > 80 ? `${outcome.answer.slice(0, 80)}…` : outcome.answer;
          throw new CheckFailedError('UNEXPECTED_ANSWER', `the answer does not match /${options.expect}/: ${JSON.stringify(shown)}`);
        }
        const seconds = (performance.now() - started) / 1000;
        report({
          name: prompt,
          ok: true,
          seconds,
          ttfbMs: result.response.firstByteMs(),
          firstFinalMs: outcome.firstFinalTokenMs,
          tokensPerSecond: outcome.completionTokens / Math.max(outcome.durationMs / 1000, 1e-6),
          finish: outcome.finish,
        });
      } catch (error) {
        if (ctx.signal.aborted) throw error;
        report({ name: prompt, ok: false, seconds: (performance.now() - started) / 1000, failure: failureOf(error) });
      }
    }
  }

  if (options.junit) await writeUserFile(options.junit, junitXml(router, results), 'JUnit report');
  const failed = results.find((result) => !result.ok);
  if (failed?.failure) {
    terminal.error(`smoke test failed: ${results.filter((result) => !result.ok).length} of ${results.length} checks`, failed.failure.code);
    return failed.failure.exitCode;
  }
  if (!options.json && !options.quiet) terminal.info(`all ${results.length} checks passed against ${router}`);
  return ExitCode.Ok;
}
