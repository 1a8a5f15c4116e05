/** The protocol known-answer vectors, read from fixtures/ (a byte-for-byte copy of ../shared). */
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const fixturesDir = resolve(repoRoot, 'fixtures', 'protocol-vectors');
export const sharedDir = resolve(repoRoot, '..', 'shared', 'protocol-vectors');

export interface ProtocolVector {
  name: string;
  kem_id: number;
  kdf_id: number;
  aead_id: number;
  key_id: number;
  ikmR: string;
  skR: string;
  pkR: string;
  key_config_list: string;
  ikmE: string;
  skE: string;
  enc: string;
  info: string;
  request_plaintext: string;
  enc_request: string;
  secret: string;
  response_nonce: string;
  response_key: string;
  response_base_nonce: string;
  chunk_plaintexts: string[];
  sse: string;
}

export interface ProtocolVectors {
  protocol: string;
  vectors: ProtocolVector[];
  key_config_list_two_keys: { hex: string; configs: { key_id: number; suites: [number, number][] }[] };
  bad_key_config_lists: { name: string; hex: string }[];
  negative_streams: { against: string; cases: { name: string; expect: 'integrity' | 'truncated'; sse: string }[] };
  chunked_ohttp_draft_08_response: {
    enc: string;
    secret: string;
    response_nonce: string;
    prk: string;
    response_key: string;
    response_base_nonce: string;
    chunk_ciphertexts: string[];
    final_chunk_index: number;
    plaintext: string;
  };
}

export const vectors = JSON.parse(readFileSync(resolve(fixturesDir, 'vectors.json'), 'utf8')) as ProtocolVectors;

export function hex(text: string): Uint8Array {
  return new Uint8Array(Buffer.from(text, 'hex'));
}

export function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes).toString('hex');
}

export const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

export function vector(name: string): ProtocolVector {
  const found = vectors.vectors.find((v) => v.name === name);
  if (!found) throw new Error(`no vector ${name}`);
  return found;
}
