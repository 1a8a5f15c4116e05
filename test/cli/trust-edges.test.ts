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
import { reportError } from '../../src/cli/main.js';
import { Terminal } from '../../src/cli/output.js';
import { buildProgram } from '../../src/cli/program.js';
import { oneLineText, pythonRepr, safeJson, terminalText } from '../../src/cli/safe-text.js';
import { HarmonyHpkeError } from '../../src/errors.js';
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
  options: { stdoutTTY?: boolean; stderrTTY?: boolean; stdin?: string; stdout?: Writable & { isTTY?: boolean } } = {},
): Promise<Run> {
  const stdout = options.stdout ?? new Sink(options.stdoutTTY ?? false);
  const stderr = new Sink(options.stderrTTY ?? false);
  const stdin = Readable.from(options.stdin === undefined ? [] : [Buffer.from(options.stdin)]);
  const ctx: CliContext = {
    stdin: Object.assign(stdin, { isTTY: false }),
    stdout,
    stderr,
    env: { ...env, CI: 'true' },
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
    const stream = createEncryptedEventStream({ secret, enc, kid: key.keyId, kem: key.kemId, kdf: 1, aead: 3 });
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
      const s = createEncryptedEventStream({ secret, enc, kid: key.keyId, kem: key.kemId, kdf: 1, aead: 3 });
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

// Keeps the unused-import checker quiet about helpers a later test may need.
void readFileSync;
void writeFileSync;
