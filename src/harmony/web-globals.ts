/**
 * The web-standard globals src/harmony uses (TextEncoder, TextDecoder, performance), typed here
 * because the runtime-neutral build (tsconfig.neutral.json) has neither Node's nor the DOM's
 * declarations. Every runtime harmony-hpke supports (Node, Deno, Bun, browsers) has all three.
 */
interface TextDecoderLike {
  decode(input: Uint8Array | Uint16Array): string;
}

interface WebGlobals {
  readonly TextDecoder: new (label: 'utf-8' | 'utf-16le', options?: { fatal?: boolean; ignoreBOM?: boolean }) => TextDecoderLike;
  readonly TextEncoder: new () => { encode(text: string): Uint8Array };
  readonly performance: { now(): number };
}

export const web = globalThis as unknown as WebGlobals;
