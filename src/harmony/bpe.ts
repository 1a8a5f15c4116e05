/**
 * The byte-pair merge of tiktoken (`_byte_pair_merge` in the reference's src/tiktoken.rs): start
 * from single bytes and repeatedly merge the adjacent pair whose bytes have the lowest rank, the
 * leftmost such pair first, until no adjacent pair is a rank.
 *
 * The reference rescans every pair after each merge, O(n * m) for n bytes and m merges, which is
 * quick for the short pieces ordinary text splits into but quadratic for a long piece without
 * spaces (40k CJK characters, a run of emoji, a base64 blob). Short pieces take that path (arrays
 * stay in cache); long ones keep the parts in a doubly linked list and the candidate pairs in a
 * binary heap ordered by (rank, position), O(n log n). Both pick the same pair at every step: the
 * lowest rank, ties to the leftmost, so they produce the same tokens.
 *
 * Pieces are byte strings: one char per byte (latin1), so that a slice is a lookup key.
 */

/** Above this many bytes a piece takes the heap path (measured: the two cross near 100 bytes). */
export const LONG_PIECE_BYTES = 128;

const NONE = Number.MAX_SAFE_INTEGER;

/** Appends the tokens of `piece` (bytes as a latin1 string) to `out`. */
export function bytePairEncode(piece: string, ranks: ReadonlyMap<string, number>, out: number[]): void {
  const n = piece.length;
  if (n === 0) return;
  if (n === 1) {
    out.push(ranks.get(piece)!);
    return;
  }
  if (n <= LONG_PIECE_BYTES) shortMerge(piece, ranks, out);
  else longMerge(piece, ranks, out);
}

function rankOf(ranks: ReadonlyMap<string, number>, piece: string, start: number, end: number): number {
  return ranks.get(piece.slice(start, end)) ?? NONE;
}

/** The reference's algorithm, as written: parts[i] = start of part i, pair[i] = rank of parts i and i+1 merged. */
function shortMerge(piece: string, ranks: ReadonlyMap<string, number>, out: number[]): void {
  const n = piece.length;
  const starts: number[] = [];
  const pair: number[] = [];
  for (let i = 0; i < n - 1; i += 1) {
    starts.push(i);
    pair.push(rankOf(ranks, piece, i, i + 2));
  }
  starts.push(n - 1, n);
  pair.push(NONE, NONE);
  for (;;) {
    let min = NONE;
    let at = -1;
    for (let i = 0; i < pair.length - 1; i += 1) {
      if (pair[i]! < min) {
        min = pair[i]!;
        at = i;
      }
    }
    if (at < 0) break;
    // Merge part `at` with part `at + 1`: the pairs that change are at-1 and at.
    if (at > 0) pair[at - 1] = at + 2 < starts.length ? rankOf(ranks, piece, starts[at - 1]!, starts[at + 2]!) : NONE;
    pair[at] = at + 3 < starts.length ? rankOf(ranks, piece, starts[at]!, starts[at + 3]!) : NONE;
    starts.splice(at + 1, 1);
    pair.splice(at + 1, 1);
  }
  for (let i = 0; i < starts.length - 1; i += 1) out.push(ranks.get(piece.slice(starts[i]!, starts[i + 1]!))!);
}

/**
 * Linked parts and a heap of candidate merges. Part i (alive while its first byte starts a part)
 * ends where next[i] starts. A heap entry is rank * 2^32 + i (exact in a double: ranks < 2^21),
 * so the smallest entry is the lowest rank, then the leftmost part. Entries go stale when a merge
 * changes a pair; an entry is current when its part is alive and pair[i] still equals its rank
 * (a pair's rank names its bytes, so the same rank at the same start is the same pair).
 */
function longMerge(piece: string, ranks: ReadonlyMap<string, number>, out: number[]): void {
  const n = piece.length;
  const next = new Int32Array(n);
  const prev = new Int32Array(n);
  const pair = new Float64Array(n);
  const alive = new Uint8Array(n).fill(1);
  const heap = new MinHeap(n);
  for (let i = 0; i < n; i += 1) {
    next[i] = i + 1;
    prev[i] = i - 1;
    const rank = i + 2 <= n ? rankOf(ranks, piece, i, i + 2) : NONE;
    pair[i] = rank;
    if (rank !== NONE) heap.push(rank * 4294967296 + i);
  }
  const pairAt = (i: number): number => {
    const j = next[i]!;
    if (j >= n) return NONE;
    return rankOf(ranks, piece, i, next[j]!);
  };
  while (heap.size > 0) {
    const entry = heap.pop();
    const i = entry % 4294967296;
    const rank = (entry - i) / 4294967296;
    if (!alive[i] || pair[i] !== rank) continue;
    // Merge part i with the part after it.
    const j = next[i]!;
    alive[j] = 0;
    next[i] = next[j]!;
    if (next[j]! < n) prev[next[j]!] = i;
    const here = pairAt(i);
    pair[i] = here;
    if (here !== NONE) heap.push(here * 4294967296 + i);
    const p = prev[i]!;
    if (p >= 0) {
      const before = pairAt(p);
      pair[p] = before;
      if (before !== NONE) heap.push(before * 4294967296 + p);
    }
  }
  for (let i = 0; i < n; i = next[i]!) out.push(ranks.get(piece.slice(i, next[i]!))!);
}

class MinHeap {
  #items: Float64Array;
  size = 0;

  constructor(capacity: number) {
    this.#items = new Float64Array(Math.max(16, capacity));
  }

  push(value: number): void {
    if (this.size === this.#items.length) {
      const grown = new Float64Array(this.#items.length * 2);
      grown.set(this.#items);
      this.#items = grown;
    }
    const items = this.#items;
    let i = this.size;
    this.size += 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (items[parent]! <= value) break;
      items[i] = items[parent]!;
      i = parent;
    }
    items[i] = value;
  }

  pop(): number {
    const items = this.#items;
    const top = items[0]!;
    this.size -= 1;
    const last = items[this.size]!;
    let i = 0;
    for (;;) {
      const left = 2 * i + 1;
      if (left >= this.size) break;
      const right = left + 1;
      const child = right < this.size && items[right]! < items[left]! ? right : left;
      if (items[child]! >= last) break;
      items[i] = items[child]!;
      i = child;
    }
    items[i] = last;
    return top;
  }
}
