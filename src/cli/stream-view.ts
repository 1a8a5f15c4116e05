/**
 * Shows a decrypted response as it arrives, the same for ask, send --decode and decode: walks the
 * verified events, Harmony-parses the token chunks, and hands what happened to the sink of the
 * output mode (sink-text.ts, sink-raw.ts, sink-json.ts). The walk keeps what the outcome reports;
 * the sinks keep what printing needs.
 */
import type { DecodedEvent } from '../sse/index.js';
import { HarmonyParseError, IntegrityError, NetworkError, RouterError } from '../core/errors.js';
import { Role, type Message } from '../harmony/model.js';
import { StreamableParser } from '../harmony/streamable-parser.js';
import { nodeHarmonyEncoding } from '../node/harmony.js';
import type { ShownChannel } from './flags.js';
import type { Terminal } from './output.js';
import { JsonSink } from './sink-json.js';
import { RawSink } from './sink-raw.js';
import { shownChannels, TextSink } from './sink-text.js';
import type { StreamOutcome } from './stream-outcome.js';
import { StreamOutput } from './stream-output.js';
import type { StreamSink } from './stream-sink.js';
import { checkRecipients, toolCallOf } from './tool-call.js';

export type { StreamOutcome } from './stream-outcome.js';

const GPT_OSS_CHANNELS = ['analysis', 'commentary', 'final'] as const;

export interface ViewOptions {
  readonly raw?: boolean | undefined;
  readonly json?: boolean | undefined;
  readonly show?: readonly ShownChannel[] | undefined;
  readonly hideAnalysis?: boolean | undefined;
  readonly strict?: boolean | undefined;
  /**
   * Longest wait for the next verified event (a heartbeat does not count): the transport's idle
   * timeout sees bytes, so a router that sends only `:` pings would otherwise hold us forever.
   */
  readonly idleMs?: number | undefined;
}

/** Untrusted plaintext `event: error` lines shown before the rest are only counted. */
export const SHOWN_DIAGNOSTICS = 5;
/** Untrusted plaintext `event: error` lines accepted in one stream; more is a flood (exit 6). */
export const MAX_DIAGNOSTICS = 100;

function sinkFor(options: ViewOptions, parser: StreamableParser, out: StreamOutput, terminal: Terminal): StreamSink {
  if (options.json) return new JsonSink(out);
  if (options.raw) return new RawSink(out, parser, options.show);
  return new TextSink(out, terminal, shownChannels(options, terminal));
}

function parseFailure(error: unknown): HarmonyParseError {
  if (error instanceof HarmonyParseError) return error;
  return new HarmonyParseError('HARMONY_PARSE_FAILED', `cannot parse the completion: ${(error as Error).message}`);
}

/** One stream's walk: the parser, the sink, and what the outcome will report. */
class StreamWalk {
  readonly parser: StreamableParser;
  responseNonce: Uint8Array | undefined;
  rid: string | undefined;
  model: string | undefined;
  finish: string | undefined;
  usage: StreamOutcome['usage'];
  chunks = 0;
  completionTokens = 0;
  /** The answer's pieces, joined once at the end (a rope of one piece per token costs the GC). */
  readonly answerParts: string[] = [];
  firstFinalTokenMs: number | undefined;
  firstChunkMs: number | undefined;
  #messagesSeen = 0;
  #recoveriesReported = 0;
  #diagnostics = 0;
  #lastProgress = performance.now();

  constructor(
    private readonly options: ViewOptions,
    private readonly out: StreamOutput,
    readonly startedAt: number,
    sink: (parser: StreamableParser) => StreamSink,
  ) {
    // --strict: malformed headers, channels other than gpt-oss's three and formatting tokens inside
    // content (a missing <|end|>) are errors (exit 9). Otherwise the parser recovers (keeping
    // another channel, not shown), and each recovery is one warning on stderr.
    this.parser = new StreamableParser(nodeHarmonyEncoding(), Role.Assistant, {
      strict: options.strict ?? false,
      validChannels: GPT_OSS_CHANNELS,
      strictContent: options.strict ?? false,
    });
    this.sink = sink(this.parser);
  }

  readonly sink: StreamSink;

  event(event: DecodedEvent): void {
    if (event.type === 'ping') {
      const idleMs = this.options.idleMs;
      if (idleMs !== undefined && performance.now() - this.#lastProgress > idleMs) {
        throw new NetworkError('IDLE_TIMEOUT', `no verified data from the router for ${idleMs} ms (only heartbeats)`);
      }
      return;
    }
    this.#lastProgress = performance.now();
    if (event.type === 'header') this.responseNonce = event.header.nonce;
    else if (event.type === 'diagnostic') this.#diagnostic(event.text);
    else if (event.type === 'chunk') this.#chunk(event);
  }

  #diagnostic(text: string): void {
    this.#diagnostics += 1;
    if (this.#diagnostics <= SHOWN_DIAGNOSTICS) {
      this.out.warn(`untrusted plaintext from the router (not part of the verified answer): ${text.slice(0, 200)}`);
    } else if (this.#diagnostics === SHOWN_DIAGNOSTICS + 1) {
      this.out.warn('more untrusted plaintext from the router: not shown');
    }
    if (this.#diagnostics >= MAX_DIAGNOSTICS) {
      throw new IntegrityError('ERROR_EVENT_FLOOD', `the router sent ${MAX_DIAGNOSTICS} unauthenticated error events; giving up on this stream`);
    }
  }

  #chunk(event: Extract<DecodedEvent, { type: 'chunk' }>): void {
    this.chunks += 1;
    this.firstChunkMs ??= performance.now() - this.startedAt;
    const message = event.message;
    switch (message.t) {
      case 'start':
        this.rid = message.rid;
        this.model = message.model;
        if (message['analysis'] === 'withheld') {
          this.out.info('the router withholds the analysis channel (reasoning stays on the router); the answer is verified as sent');
        }
        break;
      case 'tokens':
        this.sink.tokens(event.index, message.ids, message.text, () => this.#parse(message.ids));
        break;
      case 'end':
        this.finish = message.finish;
        this.usage = message.usage;
        break;
      case 'error':
        this.sink.failing();
        this.out.terminal.clearSpinner();
        throw new RouterError(message.code, `the router reported an error: ${message.message} (${message.code})`);
    }
  }

  #parse(ids: readonly number[]): void {
    const parser = this.parser;
    for (const id of ids) {
      try {
        parser.process(id);
      } catch (error) {
        throw parseFailure(error);
      }
      this.completionTokens += 1;
      if (parser.recoveries.length > this.#recoveriesReported) this.#reportRecoveries();
      const delta = parser.lastContentDelta;
      const channel = parser.currentChannel ?? (parser.currentRole === Role.Assistant ? 'final' : undefined);
      if (delta && channel) {
        if (channel === 'final') {
          this.firstFinalTokenMs ??= performance.now() - this.startedAt;
          this.answerParts.push(delta);
        }
        this.sink.delta(channel, delta, parser.currentRecipient);
      }
      if (parser.messages.length > this.#messagesSeen) this.#newMessages();
    }
  }

  #newMessages(): void {
    const messages = this.parser.messages;
    for (; this.#messagesSeen < messages.length; this.#messagesSeen += 1) {
      const message: Message | undefined = messages[this.#messagesSeen];
      if (message) this.sink.message(message);
    }
  }

  #reportRecoveries(): void {
    const recoveries = this.parser.recoveries;
    for (; this.#recoveriesReported < recoveries.length; this.#recoveriesReported += 1) {
      const recovery = recoveries[this.#recoveriesReported];
      if (recovery) this.out.warn(`malformed Harmony from the model, recovered: ${recovery.message} (${recovery.code})`);
    }
  }

  /** The stream is over: the last message, the sink's closing lines, the tool call. */
  end(): void {
    try {
      this.parser.processEos();
    } catch (error) {
      // Lenient: a completion cut inside a header (max tokens) lost only that unfinished header.
      if (!this.options.strict && error instanceof HarmonyParseError && error.code === 'HARMONY_UNEXPECTED_EOS') {
        this.out.warn(`the completion ended inside a message header (finish ${this.finish ?? 'unknown'}); that message is dropped (${error.code})`);
      } else throw parseFailure(error);
    }
    this.#newMessages();
    this.sink.end();
    if (this.options.strict) checkRecipients(this.parser.messages);
  }
}

/**
 * Consumes decoded events (in batches, as decryptStreamBatches yields them), prints them through
 * the sink of the output mode, and returns the outcome. Throws the decoder's typed errors
 * (integrity, truncation), a RouterError for an authenticated `error` chunk, and a
 * HarmonyParseError in strict mode; whatever was printed before stays printed.
 */
export async function viewStream(
  batches: AsyncIterable<readonly DecodedEvent[]>,
  terminal: Terminal,
  options: ViewOptions,
  startedAt: number = performance.now(),
): Promise<StreamOutcome> {
  const out = new StreamOutput(terminal);
  const walk = new StreamWalk(options, out, startedAt, (parser) => sinkFor(options, parser, out, terminal));
  let toolCall: StreamOutcome['toolCall'];
  try {
    for await (const batch of batches) {
      for (const event of batch) walk.event(event);
      // Back-pressure: a slow stdout or stderr holds the next read, so memory stays bounded.
      await terminal.drained();
    }
    walk.end();
    toolCall = toolCallOf(walk.parser.messages);
    if (toolCall) walk.sink.toolCall(toolCall);
  } finally {
    walk.sink.close();
    // Whatever was decoded before a failure is printed before the error is reported.
    out.flush();
  }
  return {
    responseNonce: walk.responseNonce,
    rid: walk.rid,
    model: walk.model,
    finish: walk.finish,
    usage: walk.usage,
    chunks: walk.chunks,
    completionTokens: walk.completionTokens,
    answer: walk.answerParts.join(''),
    messages: walk.parser.messages,
    firstFinalTokenMs: walk.firstFinalTokenMs,
    firstChunkMs: walk.firstChunkMs,
    durationMs: performance.now() - startedAt,
    toolCall,
  };
}
