/**
 * The o200k_harmony token registry: the ONLY module that knows token ids.
 *
 * Ids follow openai/harmony v0.0.8 (src/tiktoken_ext/public_encodings.rs and src/registry.rs):
 * o200k_base's 199,998 BPE ranks (0..199997), then the named Harmony specials, and every other id
 * up to and including 201088 as `<|reserved_N|>`. Everything else imports names from here.
 */

/** Ids of the named Harmony special tokens. */
export const SpecialToken = {
  StartOfText: 199_998,
  EndOfText: 199_999,
  Return: 200_002,
  Constrain: 200_003,
  Channel: 200_005,
  Start: 200_006,
  End: 200_007,
  Message: 200_008,
  Call: 200_012,
} as const;

export type SpecialTokenName = keyof typeof SpecialToken;

/** The text of each named special token, as it appears in rendered prompts. */
export const SpecialTokenText: { readonly [K in SpecialTokenName]: string } = {
  StartOfText: '<|startoftext|>',
  EndOfText: '<|endoftext|>',
  Return: '<|return|>',
  Constrain: '<|constrain|>',
  Channel: '<|channel|>',
  Start: '<|start|>',
  End: '<|end|>',
  Message: '<|message|>',
  Call: '<|call|>',
};

/** Text -> id for the named special tokens (reserved tokens: see specialTokenId). */
export const TOKEN_IDS: Readonly<Record<string, number>> = Object.freeze(
  Object.fromEntries(
    (Object.keys(SpecialToken) as SpecialTokenName[]).map((name) => [SpecialTokenText[name], SpecialToken[name]]),
  ),
);

/** Number of mergeable BPE ranks in o200k_base: ids 0..199997. */
export const BPE_RANK_COUNT = 199_998;

/** First id of the reference's contiguous reserved block (inclusive). */
const RESERVED_BLOCK_START = 200_014;
/** Last id of the reserved block, inclusive: the reference uses `200014..=201088`. */
export const LAST_SPECIAL_TOKEN_ID = 201_088;
/** Reserved ids interleaved with the named tokens below 200014. */
const RESERVED_HOLES: readonly number[] = [200_000, 200_001, 200_004, 200_009, 200_010, 200_011, 200_013];

/** Vocabulary size (highest id + 1). */
export const VOCAB_SIZE = LAST_SPECIAL_TOKEN_ID + 1;

const reservedName = (id: number): string => `<|reserved_${id}|>`;

function buildSpecialTable(): { byId: ReadonlyMap<number, string>; byText: ReadonlyMap<string, number> } {
  const byId = new Map<number, string>();
  for (const name of Object.keys(SpecialToken) as SpecialTokenName[]) byId.set(SpecialToken[name], SpecialTokenText[name]);
  for (const id of RESERVED_HOLES) byId.set(id, reservedName(id));
  for (let id = RESERVED_BLOCK_START; id <= LAST_SPECIAL_TOKEN_ID; id += 1) byId.set(id, reservedName(id));
  const byText = new Map<string, number>();
  for (const [id, text] of byId) byText.set(text, id);
  return { byId, byText };
}

// Small (1,091 entries) and needed by the parser on every encoding, so built eagerly.
const SPECIALS = buildSpecialTable();

/** Id of a special token's text (named or reserved), or undefined. */
export function specialTokenId(text: string): number | undefined {
  return SPECIALS.byText.get(text);
}

/** Text of a special token id (named or reserved), or undefined for ordinary ids. */
export function specialTokenText(id: number): string | undefined {
  return SPECIALS.byId.get(id);
}

export function isSpecialTokenId(id: number): boolean {
  return SPECIALS.byId.has(id);
}

/** Every special token's text (1,091 of them), in id order. */
export function allSpecialTokens(): string[] {
  return [...SPECIALS.byId.entries()].sort((a, b) => a[0] - b[0]).map(([, text]) => text);
}

/** Tokens that end a message: the parser's stop set (`<|return|>`, `<|end|>`, `<|call|>`). */
export const STOP_TOKENS: readonly number[] = Object.freeze([SpecialToken.Return, SpecialToken.End, SpecialToken.Call]);

/** Tokens that end the assistant's turn (sampling stops here): `<|return|>`, `<|call|>`. */
export const STOP_TOKENS_FOR_ASSISTANT_ACTIONS: readonly number[] = Object.freeze([SpecialToken.Return, SpecialToken.Call]);
