/** `--raw`: each decrypted chunk as the old script printed it, `Chunk 1: '<|channel|>'`. */
import type { StreamableParser } from '../harmony/streamable-parser.js';
import { pythonRepr } from './safe-text.js';
import type { StreamOutput } from './stream-output.js';
import type { StreamSink } from './stream-sink.js';

export class RawSink implements StreamSink {
  /** --show (when given) picks the channels printed. */
  readonly #only: ReadonlySet<string> | undefined;

  constructor(
    private readonly out: StreamOutput,
    private readonly parser: Pick<StreamableParser, 'pendingChannel'>,
    show: readonly string[] | undefined,
  ) {
    this.#only = show && show.length > 0 ? new Set(show) : undefined;
  }

  tokens(index: number, _ids: readonly number[], text: string, parse: () => void): void {
    // A chunk's channel: the one it leaves the parser in, or for a closing token the one it closed.
    const before = this.parser.pendingChannel;
    parse();
    const channel = this.parser.pendingChannel ?? before;
    if (!this.#only || (channel !== undefined && this.#only.has(channel))) {
      this.out.write(`Chunk ${index}: ${pythonRepr(text)}\n`);
    }
  }

  delta(): void {}
  message(): void {}
  end(): void {}
  toolCall(): void {}
  failing(): void {}
  close(): void {}
}
