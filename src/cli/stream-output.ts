/**
 * What a stream view writes through: stdout coalesced, stderr in order with it. A decoded input
 * read yields many events at once, and one write per NDJSON line or delta costs a system call
 * each; so stdout text is flushed as soon as the event loop is idle (waiting for more input), at
 * 64 KiB, before anything goes to stderr (so the two keep their order), and when the view ends or
 * fails.
 */
import type { Terminal } from './output.js';
import { safeJson } from './safe-text.js';

const FLUSH_AT = 65_536;

export class StreamOutput {
  #parts: string[] = [];
  #size = 0;
  #scheduled = false;

  constructor(readonly terminal: Terminal) {}

  /** Data for stdout (batched). */
  write(text: string): void {
    if (text === '') return;
    this.#parts.push(text);
    this.#size += text.length;
    if (this.#size >= FLUSH_AT) this.flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        this.flush();
      });
    }
  }

  /** One NDJSON record on stdout (batched). */
  jsonLine(record: unknown): void {
    this.write(`${safeJson(record)}\n`);
  }

  /** Text for stderr, after everything stdout holds. */
  writeErr(text: string): void {
    this.flush();
    this.terminal.writeErr(text);
  }

  warn(message: string): void {
    this.flush();
    this.terminal.warn(message);
  }

  info(message: string): void {
    this.flush();
    this.terminal.info(message);
  }

  flush(): void {
    if (this.#parts.length === 0) return;
    const text = this.#parts.length === 1 ? this.#parts[0]! : this.#parts.join('');
    this.#parts = [];
    this.#size = 0;
    this.terminal.writeOut(text);
  }
}
