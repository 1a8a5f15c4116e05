/**
 * The default view: the final channel on stdout as it streams, analysis and commentary on stderr
 * (dimmed), a `thinking…` spinner while hidden analysis streams on an interactive stderr, and the
 * `tool call:` line an answer ends with.
 */
import type { Message } from '../harmony/model.js';
import type { Spinner, Terminal } from './output.js';
import type { StreamOutput } from './stream-output.js';
import type { StreamSink } from './stream-sink.js';
import { toolCallLine, type ToolCall } from './tool-call.js';

export interface ShownChannelOptions {
  readonly show?: readonly string[] | undefined;
  readonly hideAnalysis?: boolean | undefined;
}

/** Which channels are printed: --show wins; by default final always, the rest on an interactive stderr. */
export function shownChannels(options: ShownChannelOptions, terminal: Terminal): Set<string> {
  if (options.show && options.show.length > 0) return new Set(options.show);
  const shown = new Set<string>(['final']);
  if (!terminal.quiet && terminal.stderrIsTTY) {
    if (!options.hideAnalysis) shown.add('analysis');
    shown.add('commentary');
  }
  if (options.hideAnalysis) shown.delete('analysis');
  return shown;
}

export class TextSink implements StreamSink {
  #lastStream: 'out' | 'err' | undefined;
  /** stderr is in the middle of a line (analysis or commentary without its newline yet). */
  #pendingNewline = false;
  #finalEndsWithNewline = true;
  #printedFinal = false;
  #closed = false;
  #thinking: Spinner | undefined;
  #thinkingShown = false;

  constructor(
    private readonly out: StreamOutput,
    private readonly terminal: Terminal,
    private readonly shown: ReadonlySet<string>,
  ) {}

  tokens(_index: number, _ids: readonly number[], _text: string, parse: () => void): void {
    parse();
  }

  delta(channel: string, delta: string, recipient: string | undefined): void {
    // A tool call's arguments are shown once, as the `tool call:` line at the end.
    if (recipient !== undefined) return;
    if (!this.shown.has(channel)) {
      if (channel === 'analysis') this.#startThinking();
      return;
    }
    if (channel === 'final') {
      this.#stopThinking();
      if (this.#lastStream === 'err' && this.#pendingNewline) {
        this.out.writeErr('\n');
        this.#pendingNewline = false;
      }
      this.out.write(this.terminal.outText(delta));
      this.#printedFinal = true;
      this.#finalEndsWithNewline = delta.endsWith('\n');
      this.#lastStream = 'out';
    } else {
      this.out.writeErr(this.terminal.err.dim(this.terminal.errText(delta)));
      this.#pendingNewline = !delta.endsWith('\n');
      this.#lastStream = 'err';
    }
  }

  message(message: Message): void {
    // A message ended: separate it from the next one on the same stream.
    if (message.channel !== 'final' && this.shown.has(message.channel ?? '') && this.#pendingNewline) {
      this.out.writeErr('\n');
      this.#pendingNewline = false;
    }
  }

  end(): void {
    if (this.#pendingNewline) this.out.writeErr('\n');
    this.#endFinalLine();
  }

  toolCall(call: ToolCall): void {
    this.out.writeErr(`${toolCallLine(call)}\n`);
  }

  failing(): void {
    this.#stopThinking();
    this.#endFinalLine();
  }

  close(): void {
    this.#closed = true;
    this.#stopThinking();
  }

  /** The answer on stdout ends with a newline, whatever the model sent. */
  #endFinalLine(): void {
    if (this.#printedFinal && !this.#finalEndsWithNewline) this.out.write('\n');
  }

  /** With analysis hidden, a spinner on an interactive stderr says the model is thinking. */
  #startThinking(): void {
    if (this.#thinkingShown || !this.terminal.spinnersAllowed) return;
    this.#thinkingShown = true;
    void this.terminal.spinner('thinking…').then((spinner) => {
      if (this.#printedFinal || this.#closed) spinner.stop();
      else this.#thinking = spinner;
    });
  }

  #stopThinking(): void {
    this.#thinking?.stop();
    this.#thinking = undefined;
  }
}
