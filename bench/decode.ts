/**
 * Decode throughput and memory. A recorded response of N encrypted chunks is made at bench time
 * with the library's own writer (src/sse EncryptedEventStream, keys from a real sealed request),
 * then decoded by the real CLI, `decode FILE --json --session FILE > /dev/null`, against a crypto
 * floor in this process: a loop that only base64url-decodes and AES-GCM-opens the same chunks
 * with node:crypto. Peak RSS of the same decode is compared with a 1,000-chunk decode: a
 * streaming decoder stays flat.
 */
import { createDecipheriv, createSecretKey } from 'node:crypto';
import { closeSync, openSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { loadHarmonyEncoding } from '../src/harmony/index.js';
import {
  AEAD_AES_128_GCM,
  encodeRequestPlaintext,
  generateRouterKey,
  KDF_HKDF_SHA256,
  keyConfigOf,
  newRequestId,
  newSession,
  sealRequest,
  serializeSession,
  sessionResponseKeys,
  type ResponseKeys,
} from '../src/hpke/index.js';
import { TokenTextDecoder } from '../src/router/render.js';
import { createEncryptedEventStream } from '../src/sse/index.js';
import { alternate, CLI, figure, median, peakRssMB, relativeIqr, syntheticText, tempDir, timeChild, timeOk, type BenchOptions, type Figure } from './lib.js';

export interface RecordedStream {
  readonly streamFile: string;
  readonly sessionFile: string;
  readonly chunks: number;
  readonly bytes: number;
  readonly keys: ResponseKeys;
}

/** Completion tokens in well-formed Harmony: an analysis message, then a final one. */
function completionTokens(count: number): number[] {
  const encoding = loadHarmonyEncoding('HarmonyGptOss');
  const open = (channel: string) => encoding.encode(`<|channel|>${channel}<|message|>`, { allowedSpecial: 'all' });
  const between = encoding.encode('<|end|><|start|>assistant', { allowedSpecial: 'all' });
  const close = encoding.encode('<|return|>', { allowedSpecial: 'all' });
  const overhead = open('analysis').length + between.length + open('final').length + close.length;
  const body = count - overhead;
  const text = encoding.encodeOrdinary(syntheticText(Math.ceil(body * 0.9) + 100, 7));
  if (text.length < body) throw new Error('synthetic text too short for the stream');
  const half = body >> 1;
  return [...open('analysis'), ...text.slice(0, half), ...between, ...open('final'), ...text.slice(half, body), ...close];
}

/**
 * Writes a response of `chunks` chunk events (start, one token per tokens chunk, end) and its
 * session file into `dir`.
 */
export async function recordStream(dir: string, chunks: number, name = 'stream'): Promise<RecordedStream> {
  const key = await generateRouterKey({ keyId: 1 });
  const config = keyConfigOf(key);
  const rid = newRequestId();
  const iat = Math.floor(Date.now() / 1000);
  const plaintext = encodeRequestPlaintext({
    v: 1,
    rid,
    iat,
    model: 'gpt-oss-20b',
    conversation: { messages: [{ role: 'user', content: 'bench' }] },
    params: {},
  });
  const sealed = await sealRequest(config, { kdfId: KDF_HKDF_SHA256, aeadId: AEAD_AES_128_GCM }, plaintext);
  const session = newSession({ router: 'http://127.0.0.1:9', config, header: sealed.header, enc: sealed.enc, secret: sealed.secret, rid, iat });
  const sessionFile = join(dir, `${name}.session.json`);
  const streamFile = join(dir, `${name}.sse`);
  writeFileSyncMode(sessionFile, serializeSession(session));

  const writer = createEncryptedEventStream(sealed);
  const tokens = completionTokens(chunks - 2);
  const text = new TokenTextDecoder();
  const fd = openSync(streamFile, 'w');
  let bytes = 0;
  let batch: string[] = [];
  const put = (event: string) => {
    batch.push(event);
    if (batch.length >= 4096) flush();
  };
  const flush = () => {
    const joined = batch.join('');
    bytes += Buffer.byteLength(joined);
    writeSync(fd, joined);
    batch = [];
  };
  try {
    put(writer.hpkeEvent());
    put(writer.chunk({ t: 'start', rid, model: 'gpt-oss-20b', created: iat }));
    for (const id of tokens) put(writer.chunk({ t: 'tokens', ids: [id], text: text.decode([id]) }));
    put(writer.final({ t: 'end', finish: 'stop', usage: { prompt_tokens: 1, completion_tokens: tokens.length } }));
    flush();
  } finally {
    closeSync(fd);
  }
  if (writer.chunksWritten !== chunks) throw new Error(`wrote ${writer.chunksWritten} chunks, wanted ${chunks}`);
  return { streamFile, sessionFile, chunks, bytes, keys: sessionResponseKeys(session, writer.responseNonce) };
}

function writeFileSyncMode(path: string, text: string): void {
  const fd = openSync(path, 'w', 0o600);
  try {
    writeSync(fd, text);
  } finally {
    closeSync(fd);
  }
}

/** The chunk events' data and whether each is the final one, in order. */
function chunkData(streamFile: string): { data: string[]; finalIndex: number } {
  const data: string[] = [];
  let finalIndex = -1;
  for (const event of readFileSync(streamFile, 'utf8').split('\n\n')) {
    const isFinal = event.includes('\nevent: final\n');
    if (!isFinal && !event.includes('\nevent: chunk\n')) continue;
    const at = event.indexOf('\ndata: ');
    data.push(event.slice(at + 7));
    if (isFinal) finalIndex = data.length - 1;
  }
  return { data, finalIndex };
}

const FINAL_AAD = Buffer.from('final', 'latin1');

/** The crypto floor: base64url-decode and AES-128-GCM-open every chunk; returns ms. */
function cryptoFloor(keys: ResponseKeys, data: readonly string[], finalIndex: number): number {
  const started = process.hrtime.bigint();
  const key = createSecretKey(keys.key);
  const base = Buffer.from(keys.baseNonce);
  const nonce = Buffer.alloc(base.byteLength);
  let plaintextBytes = 0;
  for (let i = 0; i < data.length; i += 1) {
    const ciphertext = Buffer.from(data[i]!, 'base64url');
    base.copy(nonce);
    // nonce_i = base_nonce XOR I2OSP(i, 12); i < 2^32 here.
    nonce.writeUInt32BE((nonce.readUInt32BE(8) ^ i) >>> 0, 8);
    const decipher = createDecipheriv('aes-128-gcm', key, nonce, { authTagLength: 16 });
    const split = ciphertext.byteLength - 16;
    decipher.setAuthTag(ciphertext.subarray(split));
    if (i === finalIndex) decipher.setAAD(FINAL_AAD);
    plaintextBytes += decipher.update(ciphertext.subarray(0, split)).byteLength;
    decipher.final();
  }
  if (plaintextBytes === 0) throw new Error('nothing decrypted');
  return Number(process.hrtime.bigint() - started) / 1e6;
}

function decodeArgs(stream: RecordedStream): string[] {
  return [CLI, 'decode', stream.streamFile, '--json', '--session', stream.sessionFile];
}

/** One decode with stdout captured: the NDJSON must end with a verified done record of every chunk. */
async function checkDecode(stream: RecordedStream, env: NodeJS.ProcessEnv): Promise<void> {
  const result = await timeChild(process.execPath, decodeArgs(stream), { env, captureStdout: true });
  if (result.code !== 0) throw new Error(`decode exited ${result.code}: ${result.stderr.trim()}`);
  const lines = result.stdout.trimEnd().split('\n');
  const done = JSON.parse(lines[lines.length - 1]!) as { type?: string; chunks?: number; verified?: boolean };
  const chunkLines = lines.filter((line) => line.startsWith('{"type":"chunk"')).length;
  if (done.type !== 'done' || done.verified !== true || done.chunks !== stream.chunks || chunkLines !== stream.chunks - 2) {
    throw new Error(`decode output is wrong: ${lines[lines.length - 1]} (${chunkLines} chunk lines)`);
  }
}

export async function benchDecode(opts: BenchOptions): Promise<Figure[]> {
  const chunks = opts.quick ? 3_000 : 100_000;
  const rounds = opts.quick ? 2 : 5;
  const warmup = 1;
  const dir = tempDir('hh-bench-decode-');
  try {
    const env = { ...process.env, XDG_CONFIG_HOME: join(dir.path, 'config'), XDG_STATE_HOME: join(dir.path, 'state'), NO_COLOR: '1' };
    const madeAt = performance.now();
    const stream = await recordStream(dir.path, chunks);
    const small = await recordStream(dir.path, 1_000, 'small');
    opts.log(`decode: recorded ${chunks} chunks (${(stream.bytes / 1048576).toFixed(1)} MiB) in ${(performance.now() - madeAt).toFixed(0)} ms`);
    await checkDecode(stream, env);

    const { data, finalIndex } = chunkData(stream.streamFile);
    if (data.length !== chunks) throw new Error(`found ${data.length} chunks in the recording`);
    const timed = await alternate(
      rounds,
      warmup,
      () => timeOk(process.execPath, decodeArgs(stream), { env }),
      () => cryptoFloor(stream.keys, data, finalIndex),
    );
    const cliMs = median(timed.a);
    const floorMs = median(timed.b);
    opts.log(`decode: CLI ${cliMs.toFixed(0)} ms, crypto floor ${floorMs.toFixed(0)} ms for ${chunks} chunks`);

    const memRounds = opts.quick ? 1 : 3;
    const mem = await alternate(
      memRounds,
      0,
      () => peakRssMB(decodeArgs(stream), env),
      () => peakRssMB(decodeArgs(small), env),
    );
    const detail = { chunks, streamBytes: stream.bytes, cliIqr: relativeIqr(timed.a), floorIqr: relativeIqr(timed.b) };
    return [
      figure({
        id: 'decode.time',
        label: `decode --json: ${chunks.toLocaleString('en-US')} chunks`,
        value: cliMs,
        unit: 'ms',
        baselineLabel: 'base64url + AES-GCM open loop',
        baseline: floorMs,
        baselineUnit: 'ms',
        ratio: timed.ratio,
        goal: { kind: 'ratio-max', value: 2 },
        rounds,
        detail,
      }),
      figure({
        id: 'decode.throughput',
        label: 'decode --json: throughput',
        value: (chunks * 1000) / cliMs,
        unit: 'chunks/s',
        baselineLabel: 'base64url + AES-GCM open loop',
        baseline: (chunks * 1000) / floorMs,
        baselineUnit: 'chunks/s',
        ratio: timed.ratio,
        goal: { kind: 'value-min', value: 100_000 },
        rounds,
        detail,
      }),
      figure({
        id: 'memory.decode',
        label: `decode peak RSS: ${chunks.toLocaleString('en-US')} chunks`,
        value: median(mem.a),
        unit: 'MB',
        baselineLabel: 'decode of 1,000 chunks',
        baseline: median(mem.b),
        baselineUnit: 'MB',
        ratio: mem.ratio,
        goal: { kind: 'value-max', value: 100 },
        rounds: memRounds,
      }),
    ];
  } finally {
    dir.remove();
  }
}
