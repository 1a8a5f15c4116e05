/**
 * Reads the start of an SSE stream (up to its first chunk event) without losing anything:
 * returns that text and a stream that yields it again followed by the rest.
 */
const HEAD_LIMIT = 256 * 1024;

export async function readStreamHead(
  source: AsyncIterable<Uint8Array | string>,
): Promise<{ head: string; stream: AsyncIterable<Uint8Array | string> }> {
  const iterator = source[Symbol.asyncIterator]();
  const seen: Array<Uint8Array | string> = [];
  const decoder = new TextDecoder();
  let head = '';
  let exhausted = false;
  while (head.length < HEAD_LIMIT && !hasFirstChunk(head)) {
    const next = await iterator.next();
    if (next.done) {
      exhausted = true;
      break;
    }
    seen.push(next.value);
    head += typeof next.value === 'string' ? next.value : decoder.decode(next.value, { stream: true });
  }
  return {
    head,
    stream: (async function* () {
      yield* seen;
      if (exhausted) return;
      for (;;) {
        const next = await iterator.next();
        if (next.done) return;
        yield next.value;
      }
    })(),
  };
}

/** A `chunk` event followed by the blank line that completes it. */
function hasFirstChunk(text: string): boolean {
  const normalized = text.replace(/\r\n?/g, '\n');
  const at = normalized.search(/(^|\n)event: ?chunk\n/);
  return at >= 0 && /\n\n/.test(normalized.slice(at + 1));
}
