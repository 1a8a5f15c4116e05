/**
 * o200k_harmony tokenizer: o200k_base BPE ranks from gpt-tokenizer for ordinary text, special
 * tokens from our registry, and our own pre-tokenizer and byte-pair merge.
 *
 * Why not gpt-tokenizer's encoder? In 4.0.0 its o200k_harmony encode only recognises a special
 * token at the start of the text (its special-token regex is sticky); its BytePairEncodingCore
 * turns token bytes into strings with a TextDecoder that drops a leading U+FEFF, so the 9 ranks
 * whose bytes begin with EF BB BF (`"\ufeff"` is 5574) can never be produced; its merge is
 * quadratic in the length of a piece (40k CJK characters without a space took 4.9 s); and its split
 * regex uses Node's \p{...}, whose Unicode version follows the ICU of the running Node. So the
 * package supplies only the rank table; the split pattern is the reference's with Unicode 16.0.0
 * classes (src/harmony/unicode16.ts, the version of the reference's regex tables), and every rank
 * is looked up by its bytes.
 *
 * A Tokenizer is given its rank table (or a function that returns it) and owns everything built
 * from it; nothing is shared between instances or kept at module level. A function is called on
 * the first encode/decode, never before, so a caller that passes one (the Node CLI passes a loader
 * of its build-time copy, src/node/ranks.ts) pays for the table only when a token is needed. The
 * lookup tables are built only for encoding, so a decoder (the CLI's `decode`) pays for the ranks
 * alone. Runtime-neutral: no Node built-ins.
 */
import { InternalError } from '../core/errors.js';
import { HarmonyErrorCode, HarmonyParseError, UsageError } from './errors.js';
import { BPE_RANK_COUNT, VOCAB_SIZE, allSpecialTokens, specialTokenId, specialTokenText } from './registry.js';
import { bytePairEncode } from './bpe.js';
import { preTokenizerClasses, type PreTokenizerClasses } from './unicode-classes.js';
import { checkUtf8, toWellFormed, utf8DecodeLossy, utf8DecodeValid, utf8Encode } from './utf8.js';
import { web } from './web-globals.js';

/** gpt-tokenizer's rank table: each rank's text, or its bytes where they are not UTF-8 on their own. */
export type RawRanks = readonly (string | readonly number[])[];

/** The rank table, or a function that returns it (called once, on the first encode/decode). */
export type RanksSource = RawRanks | (() => RawRanks);

interface Ranks {
  readonly ranks: RawRanks;
  /** Per-id byte cache, filled on first use (most ids are never decoded). */
  readonly bytes: Array<Uint8Array | undefined>;
  readonly loadMs: number;
}

interface Encoder {
  /** Ranks whose bytes are a whole UTF-8 string, by that string: a piece that is one token. */
  readonly byString: Map<string, number>;
  /** Every rank by its bytes, each byte one char (latin1): what the byte-pair merge looks up. */
  readonly byBytes: Map<string, number>;
  readonly split: RegExp;
  /** Time to load the ranks and build the encoder, in ms. */
  readonly loadMs: number;
}

// The reference pattern (tiktoken's o200k split regex) with Rust's `\s` spelled out: JS `\s` also
// matches U+FEFF and misses U+0085, Rust's Unicode White_Space is the other way round. `(?i:'s)`
// also matches the long s (U+017F) under Unicode case folding, in Rust and in JS alike. The letter,
// number and mark classes are Unicode 16.0.0's (see unicode-classes.ts), so the pattern is built
// with the encoder, as a 'v' RegExp (class set operations; `/` is escaped in classes).
const WS = String.raw`\t\n\v\f\r \x85\xA0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000`;
const CONTRACTION = String.raw`(?:'[sS\u017F]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])?`;

function splitPattern(classes: PreTokenizerClasses): RegExp {
  const { letter, number, upperish, lowerish } = classes;
  const [L, N, UP, LO] = [letter.source, number.source, upperish.source, lowerish.source];
  const pattern = [
    String.raw`[^\r\n${L}${N}]?[${UP}]*[${LO}]+${CONTRACTION}`,
    String.raw`[^\r\n${L}${N}]?[${UP}]+[${LO}]*${CONTRACTION}`,
    String.raw`[${N}]{1,3}`,
    String.raw` ?[^${WS}${L}${N}]+[\r\n\/]*`,
    String.raw`[${WS}]*[\r\n]+`,
    String.raw`[${WS}]+(?![^${WS}])`,
    String.raw`[${WS}]+`,
  ].join('|');
  return new RegExp(pattern, 'gv');
}

function ranksUnavailable(error: unknown): InternalError {
  return new InternalError(HarmonyErrorCode.RanksUnavailable, `cannot load the o200k_base ranks: ${(error as Error).message}`, {
    cause: error,
  });
}

/** A byte string as one char per byte (the key of Encoder.byBytes). */
function latin1(bytes: ArrayLike<number>): string {
  let out = '';
  for (let i = 0; i < bytes.length; i += 1) out += String.fromCharCode(bytes[i]!);
  return out;
}

const ASCII = /^[\x00-\x7f]*$/;

// Recently merged pieces (text repeats its words): the merge is a pure function of the piece, so
// the cache changes speed only. Bounded: cleared when full; long pieces are not kept.
const MERGE_CACHE_SIZE = 8192;
const MERGE_CACHE_PIECE = 64;

/** Which special tokens `encode` may turn into special ids / must refuse. */
export type SpecialTokenSet = 'all' | ReadonlySet<string> | readonly string[];

export interface EncodeOptions {
  /** Special tokens encoded as their ids; others are text (or refused, see disallowedSpecial). Default: none. */
  readonly allowedSpecial?: SpecialTokenSet | undefined;
  /** Special tokens that make encode throw. Default 'all' (every special not allowed). */
  readonly disallowedSpecial?: SpecialTokenSet | undefined;
}

const CANDIDATE = /<\|[a-z0-9_]+\|>/g;
const ALL_SPECIAL: ReadonlySet<string> = new Set(allSpecialTokens());

function resolveSet(value: SpecialTokenSet | undefined): ReadonlySet<string> {
  if (value === undefined) return new Set();
  if (value === 'all') return ALL_SPECIAL;
  return value instanceof Set ? value : new Set(value as readonly string[]);
}

/** Leftmost occurrence of any string of `needles` in text (the reference uses a regex search). */
function findFirst(text: string, needles: Iterable<string>): string | undefined {
  let best: { index: number; needle: string } | undefined;
  for (const needle of needles) {
    if (needle.length === 0) continue;
    const index = text.indexOf(needle);
    if (index >= 0 && (best === undefined || index < best.index || (index === best.index && needle.length > best.needle.length))) {
      best = { index, needle };
    }
  }
  return best?.needle;
}

function disallowedError(token: string): UsageError {
  return new UsageError(
    HarmonyErrorCode.DisallowedSpecialToken,
    `Encountered text corresponding to disallowed special token '${token}'. Add it to allowedSpecial to encode it as a special token, or pass disallowedSpecial: [] to encode it as text.`,
  );
}

function pushAll(out: number[], items: readonly number[]): void {
  for (const item of items) out.push(item);
}

function invalidToken(id: number): HarmonyParseError {
  return new HarmonyParseError(HarmonyErrorCode.InvalidToken, `Invalid token for decoding: ${id}`);
}

export interface TokenizerOptions {
  /**
   * The pre-tokenizer's classes as preTokenizerClasses() finds them on this JavaScript engine
   * (its Unicode correction scan costs a few hundred ms per process), precomputed by the caller
   * for this very engine (src/node/unicode-cache.ts keeps one from build time); undefined: scan.
   */
  readonly preTokenizerClasses?: (() => PreTokenizerClasses | undefined) | undefined;
}

/** The o200k_harmony tokenizer over one rank table. */
export class Tokenizer {
  #source: RanksSource | undefined;
  readonly #classes: (() => PreTokenizerClasses | undefined) | undefined;
  // Decoding needs only the rank table; encoding also needs the lookup tables, which take about as
  // long again to build (and as much memory). Each is built on first use.
  #loaded: Ranks | undefined;
  #encoder: Encoder | undefined;
  readonly #mergeCache = new Map<string, number[]>();

  constructor(ranks: RanksSource, options: TokenizerOptions = {}) {
    this.#source = ranks;
    this.#classes = options.preTokenizerClasses;
  }

  #load(): Ranks {
    if (this.#loaded) return this.#loaded;
    const started = web.performance.now();
    const source = this.#source!;
    let ranks: RawRanks;
    try {
      ranks = typeof source === 'function' ? source() : source;
    } catch (error) {
      throw ranksUnavailable(error);
    }
    if (!Array.isArray(ranks) || ranks.length !== BPE_RANK_COUNT) {
      const size = Array.isArray(ranks) ? `${ranks.length} ranks` : 'not an array';
      throw new InternalError(HarmonyErrorCode.RanksUnavailable, `the o200k_base rank table has ${size}, expected ${BPE_RANK_COUNT}`);
    }
    this.#source = undefined;
    this.#loaded = { ranks, bytes: new Array<Uint8Array | undefined>(VOCAB_SIZE), loadMs: web.performance.now() - started };
    return this.#loaded;
  }

  #loadEncoder(): Encoder {
    if (this.#encoder) return this.#encoder;
    const { ranks, loadMs } = this.#load();
    const started = web.performance.now();
    const byString = new Map<string, number>();
    const byBytes = new Map<string, number>();
    for (let rank = 0; rank < ranks.length; rank += 1) {
      const value = ranks[rank]!;
      if (typeof value === 'string') {
        byString.set(value, rank);
        byBytes.set(ASCII.test(value) ? value : latin1(utf8Encode(value)), rank);
      } else {
        byBytes.set(latin1(value), rank);
      }
    }
    this.#encoder = { byString, byBytes, split: splitPattern(this.#classes?.() ?? preTokenizerClasses()), loadMs: loadMs + (web.performance.now() - started) };
    return this.#encoder;
  }

  /** True once the rank table has been loaded (by an encode/decode or preload()). */
  get ranksLoaded(): boolean {
    return this.#loaded !== undefined;
  }

  /** Loads the ranks and builds the encoder now (e.g. a server warming up); returns how long that took, in ms. */
  preload(): number {
    return this.#loadEncoder().loadMs;
  }

  /** Encodes text as ordinary text: special-token spellings are just characters here. */
  encodeOrdinary(text: string): number[] {
    if (text.length === 0) return [];
    const { byString, byBytes, split } = this.#loadEncoder();
    const mergeCache = this.#mergeCache;
    const out: number[] = [];
    for (const [piece] of toWellFormed(text).matchAll(split)) {
      const whole = byString.get(piece);
      if (whole !== undefined) {
        out.push(whole);
        continue;
      }
      const cached = mergeCache.get(piece);
      if (cached !== undefined) {
        for (const id of cached) out.push(id);
        continue;
      }
      const start = out.length;
      bytePairEncode(ASCII.test(piece) ? piece : latin1(utf8Encode(piece)), byBytes, out);
      if (piece.length <= MERGE_CACHE_PIECE) {
        if (mergeCache.size >= MERGE_CACHE_SIZE) mergeCache.clear();
        mergeCache.set(piece, out.slice(start));
      }
    }
    return out;
  }

  /**
   * Encodes text like openai_harmony's `HarmonyEncoding.encode`: special tokens in `allowedSpecial`
   * become their ids, any in `disallowedSpecial` (default 'all': every special not allowed) make it
   * throw, and everything else is BPE-encoded as ordinary text.
   */
  encode(text: string, options: EncodeOptions = {}): number[] {
    const allowed = resolveSet(options.allowedSpecial);
    const explicit =
      options.disallowedSpecial === undefined || options.disallowedSpecial === 'all' ? undefined : resolveSet(options.disallowedSpecial);
    const isDisallowed = explicit ? (token: string) => explicit.has(token) : (token: string) => !allowed.has(token);
    // Special tokens spelled in the text, in order: refused, kept as specials, or left as text.
    const specials: Array<{ index: number; token: string; id: number }> = [];
    if (text.includes('<|')) {
      for (const m of text.matchAll(CANDIDATE)) {
        const id = specialTokenId(m[0]);
        if (id === undefined) continue;
        if (isDisallowed(m[0])) throw disallowedError(m[0]);
        if (allowed.has(m[0])) specials.push({ index: m.index, token: m[0], id });
      }
    }
    if (explicit) {
      const other = findFirst(text, [...explicit].filter((token) => specialTokenId(token) === undefined));
      if (other !== undefined) throw disallowedError(other);
    }
    const out: number[] = [];
    let start = 0;
    for (const special of specials) {
      if (special.index > start) pushAll(out, this.encodeOrdinary(text.slice(start, special.index)));
      out.push(special.id);
      start = special.index + special.token.length;
    }
    if (start < text.length) pushAll(out, this.encodeOrdinary(start === 0 ? text : text.slice(start)));
    return out;
  }

  /** Encodes with every special token allowed (the reference's `encode_with_special_tokens`). */
  encodeWithSpecialTokens(text: string): number[] {
    return this.encode(text, { allowedSpecial: 'all' });
  }

  /**
   * The text of a token when its bytes alone are valid UTF-8 (every special token and most ranks),
   * else undefined (a partial character, or an id outside the vocabulary).
   */
  tokenString(id: number): string | undefined {
    if (id < BPE_RANK_COUNT && id >= 0) {
      const rank = this.#load().ranks[id];
      if (typeof rank === 'string') return rank;
      return undefined;
    }
    return specialTokenText(id);
  }

  /** The bytes of one token, or undefined for ids outside the vocabulary. */
  tokenBytes(id: number): Uint8Array | undefined {
    const state = this.#load();
    if (!Number.isInteger(id) || id < 0 || id >= VOCAB_SIZE) return undefined;
    const cached = state.bytes[id];
    if (cached) return cached;
    let bytes: Uint8Array | undefined;
    if (id < BPE_RANK_COUNT) {
      const rank = state.ranks[id];
      if (typeof rank === 'string') bytes = utf8Encode(rank);
      else if (rank !== undefined) bytes = Uint8Array.from(rank);
    } else {
      const text = specialTokenText(id);
      if (text !== undefined) bytes = utf8Encode(text);
    }
    if (bytes) state.bytes[id] = bytes;
    return bytes;
  }

  /** Raw bytes of a token sequence (throws on ids outside the vocabulary). */
  decodeBytes(tokens: Iterable<number>): Uint8Array {
    const parts: Uint8Array[] = [];
    let total = 0;
    for (const id of tokens) {
      const bytes = this.tokenBytes(id);
      if (!bytes) throw invalidToken(id);
      parts.push(bytes);
      total += bytes.length;
    }
    const out = new Uint8Array(total);
    let offset = 0;
    for (const part of parts) {
      out.set(part, offset);
      offset += part.length;
    }
    return out;
  }

  /** Fast path: every token is whole UTF-8 on its own, so their texts concatenate. */
  #decodeAsStrings(tokens: readonly number[]): string | undefined {
    let text = '';
    for (const id of tokens) {
      const piece = this.tokenString(id);
      if (piece === undefined) return undefined;
      text += piece;
    }
    return text;
  }

  /** Decodes tokens to text, replacing invalid UTF-8 with U+FFFD (lossy, like the reference's decode). */
  decode(tokens: Iterable<number>): string {
    const list = Array.isArray(tokens) ? (tokens as number[]) : [...tokens];
    return this.#decodeAsStrings(list) ?? utf8DecodeLossy(this.decodeBytes(list));
  }

  /** Decodes tokens to text; throws HarmonyParseError on invalid ids or invalid UTF-8. */
  decodeUtf8(tokens: Iterable<number>): string {
    const list = Array.isArray(tokens) ? (tokens as number[]) : [...tokens];
    const fast = this.#decodeAsStrings(list);
    if (fast !== undefined) return fast;
    let bytes: Uint8Array;
    try {
      bytes = this.decodeBytes(list);
    } catch (error) {
      if (error instanceof HarmonyParseError) {
        throw new HarmonyParseError(error.code, `Could not decode tokens: Invalid token error: ${error.message}`);
      }
      throw error;
    }
    const check = checkUtf8(bytes);
    if (!check.ok) {
      const detail =
        check.errorLen === undefined
          ? `incomplete utf-8 byte sequence from index ${check.validUpTo}`
          : `invalid utf-8 sequence of ${check.errorLen} bytes from index ${check.validUpTo}`;
      throw new HarmonyParseError(HarmonyErrorCode.InvalidUtf8, `Could not decode tokens: Invalid utf-8 sequence: ${detail}`);
    }
    return utf8DecodeValid(bytes);
  }

  /** Whether an id is one of the 1,091 special tokens. */
  isSpecialToken(id: number): boolean {
    return specialTokenText(id) !== undefined;
  }
}
