/**
 * The cap on concurrent uploads (admission.ts UploadSet), in-process: when full, an upload that has
 * bytes evicts the slowest; one with no bytes yet waits instead of evicting. Before, a newcomer
 * with no bytes evicted at once, so slow uploaders that reconnect when cut cut each other in a
 * loop (about 2,000 cuts/s from 256 of them, docs/reliability.md).
 */
import { describe, expect, it } from 'vitest';
import { UploadSet, type Upload } from '../../src/router/admission.js';

function upload(received: number, ageMs: number, log: string[], name: string): Upload {
  return { started: performance.now() - ageMs, received, evict: () => log.push(name) };
}

describe('UploadSet', () => {
  it('when full, a new upload with no bytes yet is not admitted and evicts nobody', () => {
    const evicted: string[] = [];
    const set = new UploadSet(2);
    expect(set.add(upload(0, 2_000, evicted, 'a'))).toBe(true);
    expect(set.add(upload(0, 1_000, evicted, 'b'))).toBe(true);
    expect(set.add(upload(0, 0, evicted, 'c'))).toBe(false);
    expect(evicted).toEqual([]);
    expect(set.size).toBe(2);
  });

  it('when full, a new upload with bytes evicts the slowest (the oldest among equal rates)', () => {
    const evicted: string[] = [];
    const set = new UploadSet(3);
    set.add(upload(5_000, 1_000, evicted, 'fast'));
    set.add(upload(1, 3_000, evicted, 'old-slow'));
    set.add(upload(1, 3_000, evicted, 'young-slow'));
    expect(set.add(upload(512, 0, evicted, 'new'))).toBe(true);
    expect(evicted).toEqual(['old-slow']);
    expect(set.size).toBe(3);
  });

  it('a cap of 0 admits nothing', () => {
    const evicted: string[] = [];
    const set = new UploadSet(0);
    expect(set.add(upload(10, 0, evicted, 'a'))).toBe(false);
    expect(evicted).toEqual([]);
  });
});
