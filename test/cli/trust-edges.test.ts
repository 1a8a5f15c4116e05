/**
 * Issue 12, "trust at the edges", against a hostile router (test/helpers/hostile-router.ts: real
 * key config, real HPKE, real SSE, then whatever the script writes): unfinished answers never exit
 * 0, untrusted text reaches a terminal only as visible escapes, and the client's memory stays
 * bounded whatever the router sends. In process (the real commander program and error mapping)
 * where the process is not the point.
 */
import { Writable } from 'node:stream';
import { Readable } from 'node:stream';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CommanderError } from 'commander';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliContext } from '../../src/cli/context.js';
import { reportError } from '../../src/app/run.js';
import { Terminal } from '../../src/cli/output.js';
import { buildProgram } from '../../src/app/program.js';
import { oneLineText, pythonRepr, safeJson, terminalText } from '../../src/cli/safe-text.js';
import { HarmonyHpkeError } from '../../src/core/errors.js';
import { loadHarmonyEncoding } from '../../src/harmony/index.js';
import { startHostileRouter, startChunk, type HostileRouter, type HostileScript } from '../helpers/hostile-router.js';

const encoding = loadHarmonyEncoding('HarmonyGptOss');
const ids = (text: string) => encoding.encode(text, { allowedSpecial: 'all' });

class Sink {
  text = '';
  constructor(readonly isTTY: boolean) {}
  write(chunk: string | Uint8Array): boolean {
    this.text += typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8');
    return true;
  }
}

interface Run {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

const home = mkdtempSync(join(tmpdir(), 'harmony-hpke-trust-'));
const env = { HOME: home, XDG_CONFIG_HOME: join(home, 'config'), XDG_STATE_HOME: join(home, 'state'), TERM: 'xterm' };

async function run(
  args: readonly string[],
  options: { stdoutTTY?: boolean; stderrTTY?: boolean; stdin?: string; stdout?: Writable & { isTTY?: boolean }; env?: Record<string, string> } = {},
): Promise<Run> {
  const stdout = options.stdout ?? new Sink(options.stdoutTTY ?? false);
  const stderr = new Sink(options.stderrTTY ?? false);
  const stdin = Readable.from(options.stdin === undefined ? [] : [Buffer.from(options.stdin)]);
  const ctx: CliContext = {
    stdin: Object.assign(stdin, { isTTY: false }),
    stdout,
    stderr,
    env: { ...env, CI: 'true', ...options.env },
    signal: new AbortController().signal,
    exitCode: 0,
  };
  try {
    await buildProgram(ctx, '0.0.0-test').parseAsync(['node', 'harmony-hpke', ...args]);
  } catch (error) {
    if (!(error instanceof HarmonyHpkeError) && !(error instanceof CommanderError)) throw error;
    ctx.exitCode = reportError(new Terminal({ stdout, stderr, env: ctx.env }), error, false);
  }
  return { code: ctx.exitCode, stdout: stdout instanceof Sink ? stdout.text : '', stderr: stderr.text };
}

function errorLine(stderr: string): string {
  // eslint-disable-next-line no-control-regex
  const lines = stderr.replace(/\u001b\[\d+m/g, '').split('\n').filter((line) => line.startsWith('harmony-hpke: error:'));
  expect(lines, stderr).toHaveLength(1);
  return lines[0]!;
}

/** An answer in the final channel, then the end chunk with this finish. */
function answer(text: string, finish: 'stop' | 'length' | 'cancelled' | 'tool_call'): HostileScript {
  return ({ stream, rid, res }) => {
    res.write(stream.chunk(startChunk(rid)));
    res.write(stream.chunk({ t: 'tokens', ids: ids('<|channel|>final<|message|>'), text: '<|channel|>final<|message|>' }));
    res.write(stream.chunk({ t: 'tokens', ids: ids(text), text }));
    res.end(stream.final({ t: 'end', finish, usage: { prompt_tokens: 10, completion_tokens: 5 } }));
  };
}

const routers: HostileRouter[] = [];
async function router(script: HostileScript, options?: Parameters<typeof startHostileRouter>[1]): Promise<string> {
  const started = await startHostileRouter(script, options);
  routers.push(started);
  return started.url;
}

afterAll(async () => {
  await Promise.all(routers.map((r) => r.close()));
  rmSync(home, { recursive: true, force: true });
});

describe('an answer that did not finish never exits 0', () => {
  let cancelled: string;
  let length: string;
  beforeAll(async () => {
    cancelled = await router(answer('2', 'cancelled'));
    length = await router(answer('2 + 2 =', 'length'));
  });

  it('ask: finish cancelled exits 11 and says so; what was printed stays', async () => {
    const result = await run(['ask', 'What is 2+2?', '--router', cancelled]);
    expect(result.code).toBe(11);
    expect(result.stdout).toBe('2\n');
    expect(errorLine(result.stderr)).toMatch(/finish cancelled.*\(ANSWER_CANCELLED\)$/);
  });

  it('ask --json: the last record is the error, with exit code 11', async () => {
    const result = await run(['ask', 'What is 2+2?', '--router', cancelled, '--json']);
    expect(result.code).toBe(11);
    const last = JSON.parse(result.stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(last).toMatchObject({ type: 'error', code: 'ANSWER_CANCELLED', exit_code: 11 });
  });

  it('ask: finish length exits 0 with a warning on stderr; --strict makes it exit 11', async () => {
    const result = await run(['ask', 'What is 2+2?', '--router', length]);
    expect(result.code, result.stderr).toBe(0);
    expect(result.stdout).toBe('2 + 2 =\n');
    expect(result.stderr).toMatch(/warning: .*finish length.*\(ANSWER_CUT_AT_LENGTH\)/);
    const strict = await run(['ask', 'What is 2+2?', '--router', length, '--strict']);
    expect(strict.code).toBe(11);
    expect(errorLine(strict.stderr)).toContain('(ANSWER_CUT_AT_LENGTH)');
  });

  it('send --decode and decode: the same rules', async () => {
    const created = await run(['create-request', 'What is 2+2?', '--router', cancelled]);
    expect(created.code, created.stderr).toBe(0);
    const sent = await run(['send', '--decode'], { stdin: created.stdout });
    expect(sent.code).toBe(11);
    expect(errorLine(sent.stderr)).toContain('(ANSWER_CANCELLED)');

    const again = await run(['create-request', 'What is 2+2?', '--router', cancelled]);
    const raw = await run(['send'], { stdin: again.stdout });
    expect(raw.code, raw.stderr).toBe(0); // send without --decode only relays the bytes
    const decoded = await run(['decode'], { stdin: raw.stdout });
    expect(decoded.code).toBe(11);
    expect(decoded.stdout).toBe('2\n');
    expect(errorLine(decoded.stderr)).toContain('(ANSWER_CANCELLED)');
  });

  it('smoke: fails a cancelled answer (11) and a cut one (10); passes only a complete one', async () => {
    const c = await run(['smoke', '--router', cancelled]);
    expect(c.code).toBe(11);
    expect(c.stdout).toMatch(/^FAIL What is 2\+2\?.*\(ANSWER_CANCELLED\)$/m);
    expect(c.stdout).not.toMatch(/^ok {2}What/m);
    const l = await run(['smoke', '--router', length]);
    expect(l.code).toBe(10);
    expect(l.stdout).toMatch(/^FAIL .*\(ANSWER_CUT_AT_LENGTH\)$/m);
    const complete = await run(['smoke', '--router', await router(answer('4', 'stop'))]);
    expect(complete.code, complete.stdout + complete.stderr).toBe(0);
  });
});

// OSC 52 (clipboard write), OSC 0 (title), CSI 2J (clear), cursor up, C1 CSI, RLO.
const NASTY = 'ok\u001b]52;c;cHduZWQ=\u0007\u001b]0;pwned\u0007\u001b[2J\u001b[1A\u009b31m\u202eevil';
// eslint-disable-next-line no-control-regex
const CONTROLS = /[\u0000-\u0008\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/;

describe('untrusted text reaches a terminal only as visible escapes', () => {
  it('the sanitizer: C0, DEL, C1, bidi and separators become escapes; text mode keeps newlines and tabs', () => {
    expect(terminalText('a\tb\nc\u001b[2Jd\u009be\u202ef\u2028\u007f')).toBe('a\tb\nc\\x1b[2Jd\\x9be\\u202ef\\u2028\\x7f');
    expect(oneLineText('a\nb\u001b')).toBe('a\\nb\\x1b');
    expect(JSON.parse(safeJson({ t: NASTY }))).toEqual({ t: NASTY });
    expect(safeJson({ t: NASTY })).not.toMatch(CONTROLS);
  });

  it("--raw: Python's repr escapes (C1, bidi, no-break space, unassigned), quotes as Python picks them", () => {
    // Values printed by CPython 3.12: repr('\x9b\u202e\xa0\U000e0001a') etc.
    expect(pythonRepr('\u009b\u202e\u00a0\u{e0001}a')).toBe("'\\x9b\\u202e\\xa0\\U000e0001a'");
    expect(pythonRepr("it's")).toBe('"it\'s"');
    expect(pythonRepr('é漢😀 ')).toBe("'é漢😀 '");
    expect(pythonRepr('\u001b\u0000\u007f')).toBe("'\\x1b\\x00\\x7f'");
  });

  let nasty: string;
  beforeAll(async () => {
    nasty = await router(answer(NASTY, 'stop'));
  });

  it('model text on a terminal stdout is escaped; a pipe gets the bytes as data', async () => {
    const tty = await run(['ask', 'x', '--router', nasty], { stdoutTTY: true });
    expect(tty.code, tty.stderr).toBe(0);
    expect(tty.stdout).not.toMatch(CONTROLS);
    expect(tty.stdout).toContain('\\x1b]52;c;cHduZWQ=\\x07');
    expect(tty.stdout).toContain('\\x9b31m\\u202eevil');
    const pipe = await run(['ask', 'x', '--router', nasty]);
    expect(pipe.stdout).toBe(`${NASTY}\n`);
  });

  it('--raw and --json escape C1 and bidi too', async () => {
    const raw = await run(['ask', 'x', '--router', nasty, '--raw']);
    expect(raw.stdout).not.toMatch(CONTROLS);
    expect(raw.stdout).toContain('\\x9b31m\\u202eevil');
    const json = await run(['ask', 'x', '--router', nasty, '--json']);
    expect(json.stdout).not.toMatch(CONTROLS);
    const done = JSON.parse(json.stdout.trim().split('\n').at(-1)!) as { answer: string };
    expect(done.answer).toBe(NASTY);
  });

  it("an authenticated error chunk's message: escaped in the error line", async () => {
    const url = await router(({ stream, rid, res }) => {
      res.write(stream.chunk(startChunk(rid)));
      res.end(stream.final({ t: 'error', code: 'upstream\u001b[2J', message: `boom ${NASTY}` }));
    });
    const result = await run(['ask', 'x', '--router', url], { stderrTTY: true });
    expect(result.code).toBe(8);
    const line = errorLine(result.stderr);
    expect(line).not.toMatch(CONTROLS);
    expect(line).toContain('\\x1b]0;pwned\\x07');
  });

  it('problem details (RFC 9457) with U+202E and a C1 CSI: escaped', async () => {
    const url = await router(() => {}, {
      refuse: (_req, res) => {
        res.writeHead(400, { 'content-type': 'application/problem+json' });
        res.end(JSON.stringify({ type: 'urn:x', title: 'bad\u202eevil\u009b2J', detail: 'no\u001b]0;t\u0007' }));
        return true;
      },
    });
    const result = await run(['ask', 'x', '--router', url], { stderrTTY: true });
    expect(result.code).toBe(5);
    const line = errorLine(result.stderr);
    expect(line).not.toMatch(CONTROLS);
  });

  it('plaintext error events: escaped, and a flood is cut (exit 6) after a few shown', async () => {
    const url = await router(({ stream, rid, res }) => {
      res.write(stream.chunk(startChunk(rid)));
      const flood = `event: error\ndata: overloaded ${NASTY}\n\n`.repeat(10_000);
      res.end(flood);
    });
    const result = await run(['ask', 'x', '--router', url], { stderrTTY: true });
    expect(result.code).toBe(6);
    expect(errorLine(result.stderr)).toContain('(ERROR_EVENT_FLOOD)');
    // eslint-disable-next-line no-control-regex
    expect(result.stderr.replace(/\u001b\[\d+m/g, '')).not.toMatch(CONTROLS);
    expect(result.stderr.split('\n').filter((line) => line.includes('not part of the verified answer')).length).toBe(5);
    expect(result.stderr.length).toBeLessThan(4000);
  });
});

describe('bounded memory against a hostile router', () => {
  it('heartbeats alone do not defeat --idle-timeout', async () => {
    let timer: NodeJS.Timeout | undefined;
    const url = await router(({ stream, rid, res }) => {
      res.write(stream.chunk(startChunk(rid)));
      timer = setInterval(() => res.write(': ping\n\n'), 50);
      res.on('close', () => clearInterval(timer));
    });
    const result = await run(['ask', 'x', '--router', url, '--idle-timeout', '1s', '--timeout', '60s']);
    clearInterval(timer);
    expect(result.code).toBe(3);
    expect(errorLine(result.stderr)).toMatch(/only heartbeats.*\(IDLE_TIMEOUT\)$/);
  });

  it('send waits for a slow stdout to drain: what it holds stays near the high-water mark', async () => {
    const chunk = `: ${'x'.repeat(16 * 1024)}\n\n`;
    const url = await router(({ res }) => {
      let sent = 0;
      const pump = () => {
        while (sent < 1200) {
          sent += 1;
          if (!res.write(chunk)) {
            res.once('drain', pump);
            return;
          }
        }
        res.end();
      };
      pump();
    });
    let peak = 0;
    let total = 0;
    const slow = new Writable({
      highWaterMark: 64 * 1024,
      write(part: Buffer, _encoding, callback) {
        total += part.length;
        setTimeout(callback, 1);
      },
    });
    const probe = setInterval(() => {
      peak = Math.max(peak, slow.writableLength);
    }, 5);
    const created = await run(['create-request', 'x', '--router', url]);
    const result = await run(['send'], { stdin: created.stdout, stdout: slow });
    clearInterval(probe);
    expect(result.code, result.stderr).toBe(0);
    expect(total).toBeGreaterThan(1200 * 16 * 1024);
    // Without waiting for drain the whole ~19 MB piles up in the stream's buffer.
    expect(peak).toBeLessThan(4 * 1024 * 1024);
  });
});

describe('decode --buffer holds only the answer', () => {
  it('a stream of 200,000 pings then an answer: pings are not held; the answer is', async () => {
    const { decryptStreamBatches } = await import('../../src/sse/index.js');
    const { createEncryptedEventStream } = await import('../../src/sse/index.js');
    const { generateRouterKey } = await import('../../src/hpke/index.js');
    const key = await generateRouterKey();
    const secret = new Uint8Array(32).fill(7);
    const enc = key.publicKey;
    const stream = createEncryptedEventStream({ secret, enc, header: { keyId: key.keyId, kemId: key.kemId, kdfId: 1, aeadId: 3 } });
    const session = {
      format: 'harmony-hpke-session/1' as const,
      router: 'http://127.0.0.1',
      kid: key.keyId,
      kem: key.kemId,
      kdf: 1,
      aead: 3,
      enc,
      secret,
      rid: 'r1',
      iat: 1,
      keyConfigSha256: '',
    };
    async function* source() {
      yield stream.hpkeEvent();
      yield stream.chunk(startChunk('r1'));
      for (let i = 0; i < 200; i += 1) yield ': ping\n\n'.repeat(1000);
      yield stream.chunk({ t: 'tokens', ids: [1], text: 'x' });
      yield stream.final({ t: 'end', finish: 'stop', usage: { prompt_tokens: 1, completion_tokens: 1 } });
    }
    let largest = 0;
    let pings = 0;
    let chunks = 0;
    for await (const batch of decryptStreamBatches(source(), session as never, { buffer: true })) {
      largest = Math.max(largest, batch.length);
      for (const event of batch) {
        if (event.type === 'ping') pings += 1;
        if (event.type === 'chunk') chunks += 1;
      }
    }
    expect(chunks).toBe(3);
    expect(pings).toBe(200_000);
    // Pings pass through read by read (1,000 at a time); the held batch is the answer's 3 chunks.
    expect(largest).toBeLessThanOrEqual(1000);

    async function* big() {
      const s = createEncryptedEventStream({ secret, enc, header: { keyId: key.keyId, kemId: key.kemId, kdfId: 1, aeadId: 3 } });
      yield s.hpkeEvent();
      yield s.chunk(startChunk('r1'));
      for (let i = 0; i < 100; i += 1) yield s.chunk({ t: 'tokens', ids: [1], text: 'y'.repeat(1000) });
    }
    await expect(
      (async () => {
        for await (const _ of decryptStreamBatches(big(), session as never, { buffer: true, maxBufferedChars: 50_000 })) void _;
      })(),
    ).rejects.toMatchObject({ code: 'BUFFER_LIMIT' });
  });
});

describe("issue 12's cheap 'Confusing' items", () => {
  it('did you mean: a mistyped command or option names the right one, on the one error line', async () => {
    const { runCliInProcess } = await import('../helpers/cli.js');
    const command = await runCliInProcess(['ak', 'x'], { env });
    expect(command.code).toBe(2);
    expect(errorLine(command.stderr)).toMatch(/unknown command 'ak' \(Did you mean ask\?\) \(USAGE_UNKNOWN_COMMAND\)$/);
    const option = await runCliInProcess(['ask', '--jsno', 'x'], { env });
    expect(errorLine(option.stderr)).toMatch(/\(Did you mean --json\?\)/);
  });

  it('sessions list and sessions prune: old and broken session files go, recent ones stay', async () => {
    const { utimesSync, symlinkSync, readdirSync } = await import('node:fs');
    const sessionEnv = { XDG_STATE_HOME: join(home, 'sessions-state') };
    const url = await router(answer('4', 'stop'));
    for (let i = 0; i < 3; i += 1) {
      const created = await run(['create-request', `q${i}`, '--router', url], { env: sessionEnv });
      expect(created.code, created.stderr).toBe(0);
    }
    const dir = join(home, 'sessions-state', 'harmony-hpke', 'sessions');
    const [oldest] = readdirSync(dir).sort();
    const old = new Date(Date.now() - 10 * 86_400_000);
    utimesSync(join(dir, oldest!), old, old);
    symlinkSync(join(home, 'gone.json'), join(dir, 'dangling.json'));
    const list = await run(['sessions', 'list', '--json'], { env: sessionEnv });
    expect(list.code, list.stderr).toBe(0);
    const records = list.stdout.trim().split('\n').map((line) => JSON.parse(line) as { broken: boolean; rid: string | null });
    expect(records).toHaveLength(4);
    expect(records.filter((record) => record.broken)).toHaveLength(1);
    expect(list.stdout).not.toMatch(/secret/);
    const dry = await run(['sessions', 'prune', '--dry-run'], { env: sessionEnv });
    expect(dry.stderr).toContain('would remove 2 of 4');
    expect(readdirSync(dir)).toHaveLength(4);
    const pruned = await run(['sessions', 'prune'], { env: sessionEnv });
    expect(pruned.code, pruned.stderr).toBe(0);
    expect(readdirSync(dir).sort()).toHaveLength(2);
    expect(readdirSync(dir)).not.toContain(oldest);
  });

  it('config show: each setting with its source; a profile\'s keys path is relative to the config file, ~ expanded', async () => {
    const dir = join(home, 'cfg');
    const { mkdirSync } = await import('node:fs');
    mkdirSync(dir, { recursive: true });
    const config = join(dir, 'config.json');
    writeFileSync(config, JSON.stringify({ default_profile: 'p', profiles: { p: { router: 'https://r.example', keys: 'r.keys', model: 'gpt-oss-120b' }, q: { router: 'https://q.example', keys: '~/q.keys' } } }));
    const shown = await run(['--config', config, 'config', 'show', '--json', '--max-tokens', '7'], { env: { HARMONY_HPKE_REASONING_EFFORT: 'high' } });
    expect(shown.code, shown.stderr).toBe(0);
    const record = JSON.parse(shown.stdout) as Record<string, { value: unknown; source: string | null }>;
    expect(record['router']).toEqual({ value: 'https://r.example', source: `config file ${config}, profile 'p'` });
    expect(record['keys']?.value).toBe(join(dir, 'r.keys'));
    expect(record['model']?.source).toContain('profile');
    expect(record['max_tokens']).toEqual({ value: 7, source: '--max-tokens' });
    expect(record['reasoning_effort']).toEqual({ value: 'high', source: 'HARMONY_HPKE_REASONING_EFFORT' });
    const q = await run(['--config', config, '--profile', 'q', 'config', 'show', '--json']);
    expect((JSON.parse(q.stdout) as Record<string, { value: unknown }>)['keys']?.value).toBe(join(home, 'q.keys'));
    const text = await run(['--config', config, 'config', 'show']);
    expect(text.stdout).toMatch(/^router +https:\/\/r\.example {2}\(config file .*profile 'p'\)$/m);
  });

  it('--json: a usage error is a JSON error record on stdout too', async () => {
    const { runCliInProcess } = await import('../helpers/cli.js');
    const result = await runCliInProcess(['ask', 'x', '--json', '--max-tokens', 'lots'], { env });
    expect(result.code).toBe(2);
    expect(JSON.parse(result.stdout.trim())).toMatchObject({ type: 'error', code: 'USAGE_INVALID_ARGUMENT', exit_code: 2 });
    const late = await runCliInProcess(['ask', 'x', '--json', '--conversation', join(home, 'missing.json')], { env });
    expect(late.code).toBe(2);
    const lines = late.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(JSON.parse(lines[0]!)).toMatchObject({ type: 'error', exit_code: 2 });
  });
});

describe("issue 12's 'Wrong' list", () => {
  let ok: string;
  beforeAll(async () => {
    ok = await router(answer('4', 'stop'));
  });

  it('keys help and keys help pin print help and exit 0', async () => {
    const keys = await run(['keys', 'help']);
    expect(keys.code, keys.stderr).toBe(0);
    expect(keys.stdout).toMatch(/^Usage: harmony-hpke keys/);
    const pin = await run(['keys', 'help', 'pin']);
    expect(pin.code, pin.stderr).toBe(0);
    expect(pin.stdout).toMatch(/^Usage: harmony-hpke keys pin/);
  });

  it('decode: input that is not SSE, and a stream with no stored session, are usage errors (exit 2)', async () => {
    const notSse = await run(['decode'], { stdin: '{"hello": "world"}\n' });
    expect(notSse.code).toBe(2);
    expect(errorLine(notSse.stderr)).toContain('(NOT_AN_SSE_STREAM)');
    const created = await run(['create-request', 'x', '--router', ok]);
    const raw = await run(['send'], { stdin: created.stdout });
    // Another machine's state directory: no stored session opens this stream.
    const unknown = await run(['decode'], { stdin: raw.stdout, env: { XDG_STATE_HOME: join(home, 'other-state') } });
    expect(unknown.code).toBe(2);
    expect(errorLine(unknown.stderr)).toContain('(NO_MATCHING_SESSION)');
  });

  it("a default profile's key_pin applies to its own router only; a mismatch names the config file", async () => {
    const config = join(home, 'pinned-config.json');
    const wrongPin = `sha256:${'0'.repeat(64)}`;
    writeFileSync(config, JSON.stringify({ default_profile: 'prod', profiles: { prod: { router: 'https://router.example', key_pin: wrongPin } } }));
    const elsewhere = await run(['--config', config, 'ask', 'x', '--router', ok]);
    expect(elsewhere.code, elsewhere.stderr).toBe(0);
    writeFileSync(config, JSON.stringify({ default_profile: 'prod', profiles: { prod: { router: ok, key_pin: wrongPin } } }));
    const own = await run(['--config', config, 'ask', 'x']);
    expect(own.code).toBe(4);
    expect(errorLine(own.stderr)).toMatch(/pin from config file .*pinned-config\.json, profile 'prod'.*\(PIN_MISMATCH\)$/);
  });

  it('echo text | ask "Summarise this": stdin first, then the prompt', async () => {
    const { openSync, closeSync } = await import('node:fs');
    const { readPrompt } = await import('../../src/cli/input.js');
    const file = join(home, 'piped.txt');
    writeFileSync(file, 'the text\n');
    const fd = openSync(file, 'r');
    try {
      const stdin = Object.assign(Readable.from([Buffer.from('the text\n')]), { isTTY: false, fd });
      const ctx = { stdin, stdout: new Sink(false), stderr: new Sink(false), env: {}, signal: new AbortController().signal, exitCode: 0 };
      expect(await readPrompt(ctx, 'Summarise this')).toBe('the text\n\nSummarise this');
    } finally {
      closeSync(fd);
    }
  });

  it('--save never replaces an unrelated file; --conversation F --save F starts F; saved files are 0600', async () => {
    const { statSync, existsSync } = await import('node:fs');
    const other = join(home, 'other.json');
    writeFileSync(other, 'precious');
    const refused = await run(['ask', 'x', '--router', ok, '--save', other]);
    expect(refused.code).toBe(2);
    expect(errorLine(refused.stderr)).toContain('(SAVE_WOULD_OVERWRITE)');
    expect(readFileSync(other, 'utf8')).toBe('precious');
    const chat = join(home, 'fresh', 'chat.json');
    expect(existsSync(chat)).toBe(false);
    const first = await run(['ask', 'x', '--router', ok, '--conversation', chat, '--save', chat]);
    expect(first.code, first.stderr).toBe(0);
    expect(statSync(chat).mode & 0o777).toBe(0o600);
    const second = await run(['ask', 'y', '--router', ok, '--conversation', chat, '--save', chat]);
    expect(second.code, second.stderr).toBe(0);
    const saved = JSON.parse(readFileSync(chat, 'utf8')) as { messages: unknown[] };
    expect(saved.messages.length).toBeGreaterThan(3);
    const body = join(home, 'body.bin');
    const created = await run(['create-request', 'x', '--router', ok, '--body-out', body]);
    expect(created.code, created.stderr).toBe(0);
    expect(statSync(body).mode & 0o777).toBe(0o600);
  });

  it('20 concurrent pin updates keep all 20 pins', async () => {
    const { updatePinStore, readPinStore } = await import('../../src/client/keys.js');
    const pinEnv = { ...env, XDG_CONFIG_HOME: join(home, 'pins-config') };
    await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        updatePinStore(pinEnv, (pins) => {
          pins[`https://r${i}.example`] = `sha256:${i.toString(16).padStart(64, '0')}`;
        }),
      ),
    );
    expect(Object.keys(await readPinStore(pinEnv))).toHaveLength(20);
  });

  it('the re-seal after a 422 key refusal is a new request: a new rid', async () => {
    const rids: string[] = [];
    const url = await router(answer('4', 'stop'), {
      refuse: (_req, res, rid) => {
        rids.push(rid);
        if (rids.length > 1) return false;
        res.writeHead(422, { 'content-type': 'application/problem+json' });
        res.end(JSON.stringify({ type: 'https://iana.org/assignments/http-problem-types#ohttp-key', title: 'key' }));
        return true;
      },
    });
    const result = await run(['ask', 'x', '--router', url]);
    expect(result.code, result.stderr).toBe(0);
    expect(rids).toHaveLength(2);
    expect(rids[1]).not.toBe(rids[0]);
  });
});
