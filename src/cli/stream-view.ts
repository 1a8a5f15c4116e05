/**
 * Shows a decrypted response as it arrives: Harmony-parses the verified token chunks and prints
 * the final channel to stdout, analysis/commentary to stderr (dimmed), or `--raw` chunks, or
 * NDJSON events. Used by ask, send --decode and decode alike.
 */
import type { DecodedEvent } from '../sse/index.js';
import { CheckFailedError, HarmonyParseError, IncompleteAnswerError, IntegrityError, NetworkError, RouterError } from '../core/errors.js';
import { Role, type Message } from '../harmony/model.js';
import { StreamableParser } from '../harmony/streamable-parser.js';
import { nodeHarmonyEncoding } from '../node/harmony.js';
import type { Spinner, Terminal } from './output.js';
import { pythonRepr, safeJson } from './safe-text.js';
import type { ShownChannel } from '../app/program.js';
import type { Session } from '../hpke/index.js';
import { recordResponseNonce } from '../client/session-store.js';
import { checkRecipients, toolCallLine, toolCallOf, toolCallRecord, type ToolCall } from './tool-call.js';

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

export interface MessageRecord {
  readonly type: 'message';
  readonly role: string;
  readonly channel: string | null;
  readonly recipient: string | null;
  readonly content_type: string | null;
  readonly text: string;
}

export interface StreamOutcome {
  /** The verified hpke event's response nonce (recorded in the session file afterwards). */
  readonly responseNonce: Uint8Array | undefined;
  readonly rid: string | undefined;
  readonly model: string | undefined;
  readonly finish: string | undefined;
  readonly usage: { prompt_tokens: number; completion_tokens: number } | undefined;
  readonly chunks: number;
  readonly completionTokens: number;
  /** The final channel's text (the answer). */
  readonly answer: string;
  /** Parsed completion messages (openai-harmony Message objects). */
  readonly messages: readonly Message[];
  readonly firstFinalTokenMs: number | undefined;
  readonly firstChunkMs: number | undefined;
  readonly durationMs: number;
  /** The tool call the answer ends with (its `tool_call` event or stderr line was printed). */
  readonly toolCall: ToolCall | undefined;
}

function messageText(message: Message): string {
  return message.content.map((part) => ('text' in part && typeof part.text === 'string' ? part.text : '')).join('');
}

export function messageRecord(message: Message): MessageRecord {
  return {
    type: 'message',
    role: message.author.role,
    channel: message.channel ?? null,
    recipient: message.recipient ?? null,
    content_type: message.contentType ?? null,
    text: messageText(message),
  };
}

/** Records the decoded response in its session file; a failure to do so is a warning, not an error. */
export async function rememberResponse(terminal: Terminal, path: string, session: Session, nonce: Uint8Array): Promise<void> {
  await recordResponseNonce(path, session, nonce).catch(() => {
    terminal.warn(`could not record the response in ${path}`);
  });
}

/** Which channels are printed: --show wins; by default final always, the rest on an interactive stderr. */
export function shownChannels(options: ViewOptions, terminal: Terminal): Set<string> {
  if (options.show && options.show.length > 0) return new Set(options.show);
  const shown = new Set<string>(['final']);
  if (!terminal.quiet && terminal.stderrIsTTY) {
    if (!options.hideAnalysis) shown.add('analysis');
    shown.add('commentary');
  }
  if (options.hideAnalysis) shown.delete('analysis');
  return shown;
}

/**
 * `JSON.stringify({ type: 'chunk', index, ids, text })` and a newline, built directly (the same
 * bytes: the index and ids are verified safe non-negative integers), for the NDJSON hot path.
 */
export function chunkLine(index: number, ids: readonly number[], text: string): string {
  const idList = ids.length === 1 ? `[${ids[0]}]` : JSON.stringify(ids);
  return `{"type":"chunk","index":${index},"ids":${idList},"text":${safeJson(text)}}\n`;
}

/**
 * Coalesces what viewStream prints to stdout: a decoded input read yields many events at once,
 * and one write per NDJSON line or delta costs a system call each. Everything written is flushed
 * as soon as the event loop is idle (waiting for more input), at 64 KiB, before anything goes to
 * stderr (so the two keep their order), and when the view ends or fails.
 */
class StdoutBatch {
  #parts: string[] = [];
  #size = 0;
  #scheduled = false;

  constructor(private readonly terminal: Terminal) {}

  write(text: string): void {
    if (text === '') return;
    this.#parts.push(text);
    this.#size += text.length;
    if (this.#size >= 65_536) this.flush();
    else if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(() => {
        this.#scheduled = false;
        this.flush();
      });
    }
  }

  flush(): void {
    if (this.#parts.length === 0) return;
    const text = this.#parts.length === 1 ? this.#parts[0]! : this.#parts.join('');
    this.#parts = [];
    this.#size = 0;
    this.terminal.writeOut(text);
  }
}

/**
 * Consumes decoded events (in batches, as decryptStreamBatches yields them), prints them, and
 * returns the outcome. Throws the decoder's typed errors
 * (integrity, truncation), a RouterError for an authenticated `error` chunk, and a
 * HarmonyParseError in strict mode; whatever was printed before stays printed.
 */
export async function viewStream(
  batches: AsyncIterable<readonly DecodedEvent[]>,
  terminal: Terminal,
  options: ViewOptions,
  startedAt: number = performance.now(),
): Promise<StreamOutcome> {
  const encoding = nodeHarmonyEncoding();
  // --strict: malformed headers, channels other than gpt-oss's three and formatting tokens inside
  // content (a missing <|end|>) are errors (exit 9).
  // Otherwise the parser recovers, and each recovery is one warning on stderr.
  const parser = new StreamableParser(encoding, Role.Assistant, {
    strict: options.strict ?? false,
    // Lenient mode keeps another channel (not shown) and says so in a warning.
    validChannels: GPT_OSS_CHANNELS,
    strictContent: options.strict ?? false,
  });
  let recoveriesReported = 0;
  const reportRecoveries = () => {
    const recoveries = parser.recoveries;
    for (; recoveriesReported < recoveries.length; recoveriesReported += 1) {
      const recovery = recoveries[recoveriesReported];
      if (recovery) warn(`malformed Harmony from the model, recovered: ${recovery.message} (${recovery.code})`);
    }
  };
  const shown = shownChannels(options, terminal);
  const rawFilter = options.show && options.show.length > 0 ? new Set<string>(options.show) : undefined;
  const mode = options.json ? 'json' : options.raw ? 'raw' : 'text';
  const stdout = new StdoutBatch(terminal);
  const writeOut = (text: string) => stdout.write(text);
  const jsonLine = (record: unknown) => stdout.write(`${safeJson(record)}\n`);
  const writeErr = (text: string) => {
    stdout.flush();
    terminal.writeErr(text);
  };
  const warn = (message: string) => {
    stdout.flush();
    terminal.warn(message);
  };

  let responseNonce: Uint8Array | undefined;
  let rid: string | undefined;
  let model: string | undefined;
  let finish: string | undefined;
  let usage: StreamOutcome['usage'];
  let chunks = 0;
  let completionTokens = 0;
  // The answer's pieces, joined once at the end (a rope of one piece per token costs the GC).
  const answerParts: string[] = [];
  let firstFinalTokenMs: number | undefined;
  let firstChunkMs: number | undefined;
  let emittedMessages = 0;
  let lastStream: 'out' | 'err' | undefined;
  let pendingNewline = false;
  let finalEndsWithNewline = true;
  let printedFinal = false;
  let thinkingDone = false;
  let diagnostics = 0;
  let lastProgress = performance.now();
  let toolCall: ToolCall | undefined;

  const emitNewMessages = () => {
    const messages = parser.messages;
    for (; emittedMessages < messages.length; emittedMessages += 1) {
      const message = messages[emittedMessages];
      if (message && mode === 'json') jsonLine(messageRecord(message));
    }
  };

  // With analysis hidden, a spinner on an interactive stderr says the model is thinking.
  let thinking: Spinner | undefined;
  let thinkingShown = false;
  const stopThinking = () => {
    thinking?.stop();
    thinking = undefined;
  };

  const writeDelta = (channel: string, delta: string) => {
    if (!shown.has(channel)) {
      if (channel === 'analysis' && !thinkingShown && mode === 'text' && terminal.spinnersAllowed) {
        thinkingShown = true;
        void terminal.spinner('thinking…').then((spinner) => {
          if (printedFinal || thinkingDone) spinner.stop();
          else thinking = spinner;
        });
      }
      return;
    }
    if (channel === 'final') {
      stopThinking();
      if (lastStream === 'err' && pendingNewline) {
        writeErr('\n');
        pendingNewline = false;
      }
      writeOut(terminal.outText(delta));
      printedFinal = true;
      finalEndsWithNewline = delta.endsWith('\n');
      lastStream = 'out';
    } else {
      writeErr(terminal.err.dim(terminal.errText(delta)));
      pendingNewline = !delta.endsWith('\n');
      lastStream = 'err';
    }
  };

  const processTokens = (ids: readonly number[]) => {
    for (const id of ids) {
      try {
        parser.process(id);
      } catch (error) {
        if (error instanceof HarmonyParseError) throw error;
        throw new HarmonyParseError('HARMONY_PARSE_FAILED', `cannot parse the completion: ${(error as Error).message}`);
      }
      completionTokens += 1;
      if (parser.recoveries.length > recoveriesReported) reportRecoveries();
      const delta = parser.lastContentDelta;
      const channel = parser.currentChannel ?? (parser.currentRole === Role.Assistant ? 'final' : undefined);
      if (delta && channel) {
        if (channel === 'final') {
          firstFinalTokenMs ??= performance.now() - startedAt;
          answerParts.push(delta);
        }
        // A tool call's arguments are shown once, as the `tool call:` line at the end.
        if (mode === 'text' && parser.currentRecipient === undefined) writeDelta(channel, delta);
      }
      if (mode === 'text' && parser.messages.length > emittedMessages) {
        // A message ended: separate it from the next one on the same stream.
        const message = parser.messages[parser.messages.length - 1];
        if (message && message.channel !== 'final' && shown.has(message.channel ?? '') && pendingNewline) {
          writeErr('\n');
          pendingNewline = false;
        }
        emittedMessages = parser.messages.length;
      }
      if (mode === 'json') emitNewMessages();
    }
  };

  try {
    for await (const batch of batches) {
      for (const event of batch) {
      if (event.type === 'ping') {
        if (options.idleMs !== undefined && performance.now() - lastProgress > options.idleMs) {
          throw new NetworkError('IDLE_TIMEOUT', `no verified data from the router for ${options.idleMs} ms (only heartbeats)`);
        }
        continue;
      }
      lastProgress = performance.now();
      if (event.type === 'header') {
        responseNonce = event.header.nonce;
        continue;
      }
      if (event.type === 'diagnostic') {
        diagnostics += 1;
        if (diagnostics <= SHOWN_DIAGNOSTICS) {
          warn(`untrusted plaintext from the router (not part of the verified answer): ${event.text.slice(0, 200)}`);
        } else if (diagnostics === SHOWN_DIAGNOSTICS + 1) {
          warn('more untrusted plaintext from the router: not shown');
        }
        if (diagnostics >= MAX_DIAGNOSTICS) {
          throw new IntegrityError('ERROR_EVENT_FLOOD', `the router sent ${MAX_DIAGNOSTICS} unauthenticated error events; giving up on this stream`);
        }
        continue;
      }
      if (event.type !== 'chunk') continue;
      chunks += 1;
      firstChunkMs ??= performance.now() - startedAt;
      const message = event.message;
      switch (message.t) {
        case 'start':
          rid = message.rid;
          model = message.model;
          if (message['analysis'] === 'withheld') {
            stdout.flush();
            terminal.info('the router withholds the analysis channel (reasoning stays on the router); the answer is verified as sent');
          }
          break;
        case 'tokens': {
          if (mode === 'json') {
            writeOut(chunkLine(event.index, message.ids, message.text));
          }
          // A chunk's channel: the one it leaves the parser in, or for a closing token the one it closed.
          const channelBefore = mode === 'raw' ? parser.pendingChannel : undefined;
          processTokens(message.ids);
          if (mode === 'raw') {
            const channel = parser.pendingChannel ?? channelBefore;
            // The old script's format exactly; --show (when given) picks the channels printed.
            if (!rawFilter || (channel !== undefined && rawFilter.has(channel))) {
              writeOut(`Chunk ${event.index}: ${pythonRepr(message.text)}\n`);
            }
          }
          break;
        }
        case 'end':
          finish = message.finish;
          usage = message.usage;
          break;
        case 'error':
          stopThinking();
          terminal.clearSpinner();
          if (mode === 'text' && printedFinal && !finalEndsWithNewline) writeOut('\n');
          throw new RouterError(message.code, `the router reported an error: ${message.message} (${message.code})`);
      }
      }
      // Back-pressure: a slow stdout or stderr holds the next read, so memory stays bounded.
      await terminal.drained();
    }

    try {
      parser.processEos();
    } catch (error) {
      // Lenient: a completion cut inside a header (max tokens) lost only that unfinished header.
      if (!options.strict && error instanceof HarmonyParseError && error.code === 'HARMONY_UNEXPECTED_EOS') {
        warn(`the completion ended inside a message header (finish ${finish ?? 'unknown'}); that message is dropped (${error.code})`);
      } else if (error instanceof HarmonyParseError) throw error;
      else throw new HarmonyParseError('HARMONY_PARSE_FAILED', `cannot parse the completion: ${(error as Error).message}`);
    }
    if (mode === 'json') emitNewMessages();
    if (mode === 'text') {
      if (pendingNewline) writeErr('\n');
      if (printedFinal && !finalEndsWithNewline) writeOut('\n');
    }
    if (options.strict) checkRecipients(parser.messages);
    toolCall = toolCallOf(parser.messages);
    if (toolCall && mode === 'json') jsonLine(toolCallRecord(toolCall));
    else if (toolCall && mode === 'text') writeErr(`${toolCallLine(toolCall)}\n`);
  } finally {
    thinkingDone = true;
    stopThinking();
    // Whatever was decoded before a failure is printed before the error is reported.
    stdout.flush();
  }

  return {
    responseNonce,
    rid,
    model,
    finish,
    usage,
    chunks,
    completionTokens,
    answer: answerParts.join(''),
    messages: parser.messages,
    firstFinalTokenMs,
    firstChunkMs,
    durationMs: performance.now() - startedAt,
    toolCall,
  };
}

/**
 * What the finish reason means for the exit: `stop` and `tool_call` are complete answers;
 * `cancelled` (or none) is not: exit 11; `length` is a warning on stderr, an error with --strict.
 */
export function checkFinish(outcome: StreamOutcome, terminal: Terminal, options: { strict?: boolean | undefined }): void {
  const finish = outcome.finish;
  if (finish === 'stop' || finish === 'tool_call') return;
  if (finish === 'length') {
    const message = 'the answer was cut at the token limit (finish length): raise --max-tokens';
    if (options.strict) throw new IncompleteAnswerError('ANSWER_CUT_AT_LENGTH', message, finish);
    terminal.warn(`${message} (ANSWER_CUT_AT_LENGTH)`);
    return;
  }
  throw new IncompleteAnswerError(
    'ANSWER_CANCELLED',
    `the router stopped the answer before it finished (finish ${finish ?? 'missing'}); what was printed is incomplete`,
    finish ?? 'missing',
  );
}

/** smoke: anything but a complete `stop` answer fails (cancelled: exit 11; length and others: exit 10). */
export function requireCompleteAnswer(outcome: StreamOutcome): void {
  const finish = outcome.finish;
  if (finish === 'stop') return;
  if (finish === 'length') {
    throw new CheckFailedError('ANSWER_CUT_AT_LENGTH', 'the answer was cut at the token limit (finish length), not complete');
  }
  if (finish === 'cancelled' || finish === undefined) {
    throw new IncompleteAnswerError('ANSWER_CANCELLED', `the router stopped the answer before it finished (finish ${finish ?? 'missing'})`, finish ?? 'missing');
  }
  throw new CheckFailedError('UNEXPECTED_FINISH', `the answer ended with finish ${finish}, not stop`);
}

export function doneRecord(outcome: StreamOutcome): Record<string, unknown> {
  return {
    type: 'done',
    rid: outcome.rid ?? null,
    model: outcome.model ?? null,
    finish: outcome.finish ?? null,
    usage: outcome.usage ?? null,
    chunks: outcome.chunks,
    answer: outcome.answer,
    verified: true,
  };
}

export function timingLine(outcome: StreamOutcome, firstByteMs: number | undefined): string {
  const seconds = outcome.durationMs / 1000;
  const rate = seconds > 0 ? outcome.completionTokens / seconds : 0;
  const fmt = (ms: number | undefined) => (ms === undefined ? 'n/a' : `${ms.toFixed(0)} ms`);
  return `time to first byte ${fmt(firstByteMs)}, to first final token ${fmt(outcome.firstFinalTokenMs)}, ${outcome.completionTokens} tokens in ${seconds.toFixed(2)} s (${rate.toFixed(1)} tokens/s)`;
}
