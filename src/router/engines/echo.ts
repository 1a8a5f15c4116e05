/**
 * The built-in echo engine: deterministic, no model. It answers in well-formed Harmony, streamed
 * token by token: an `analysis` message restating the question, then a `final` message that
 * evaluates simple arithmetic ("What is 2+2?" -> 4) or says plainly that no model is loaded.
 * Given function tools and a prompt that names one, it calls that tool; given a tool's output, it
 * answers with it (echo-tools.ts has the rule).
 * It never pretends to be a model. Fault modes exist for tests.
 */
import type { HarmonyEncoding } from '../../harmony/encoding.js';
import { SpecialToken } from '../../harmony/registry.js';
import { nodeHarmonyEncoding } from '../../node/harmony.js';
import { EngineError, type Engine, type EngineEvent, type EngineFault, type EngineRequest } from '../engine.js';
import { evaluateArithmetic } from './arithmetic.js';
import { echoToolTurn } from './echo-tools.js';

export interface EchoEngineOptions {
  /** Delay between tokens, to make streaming visible and to test timeouts. */
  readonly delayMs?: number;
  /** A fault applied to every request (tests only). */
  readonly fault?: EngineFault | undefined;
}

/** Thrown to make the router drop the connection without a final chunk (a simulated crash). */
export class DisconnectFault extends EngineError {
  constructor() {
    super('FAULT_DISCONNECT', 'injected disconnect');
  }
}

const MAX_ECHO_CHARS = 2000;
const CALL = SpecialToken.Call;

function lastUserText(conversation: EngineRequest['conversation']): string {
  for (let index = conversation.messages.length - 1; index >= 0; index -= 1) {
    const message = conversation.messages[index] as { role?: unknown; content?: unknown } | undefined;
    if (message?.role !== 'user') continue;
    if (typeof message.content === 'string') return message.content;
    if (Array.isArray(message.content)) {
      return message.content
        .map((part: unknown) =>
          typeof part === 'object' && part !== null && typeof (part as { text?: unknown }).text === 'string'
            ? (part as { text: string }).text
            : '',
        )
        .join('');
    }
  }
  return '';
}

function clip(text: string): string {
  const oneLine = text.replace(/\s+/g, ' ').trim();
  return oneLine.length > MAX_ECHO_CHARS ? `${oneLine.slice(0, MAX_ECHO_CHARS)}…` : oneLine;
}

/** The two messages the engine answers with, as text. */
export function echoAnswer(question: string): { analysis: string; final: string } {
  const arithmetic = evaluateArithmetic(question);
  if (arithmetic) {
    return {
      analysis: `The user asks what ${arithmetic.expression.replace(/\s+/g, '')} is. Simple arithmetic: ${arithmetic.result}.`,
      final: `${arithmetic.spaced} = ${arithmetic.result}.`,
    };
  }
  const echoed = clip(question);
  if (echoed === '') {
    return {
      analysis: 'The conversation has no user message. No model is loaded on this router (built-in echo engine).',
      final: 'No model is loaded on this router (built-in echo engine), and the request had no question to echo.',
    };
  }
  return {
    analysis: `The user wrote: "${echoed}". No model is loaded on this router (built-in echo engine), so there is nothing to reason with; only simple arithmetic is evaluated.`,
    final: `No model is loaded on this router: it runs the built-in echo engine, which only evaluates simple arithmetic. You asked: "${echoed}"`,
  };
}

/**
 * Completion tokens for a conversation: a tool call or an answer from a tool's output when the
 * conversation asks for one (echo-tools.ts), else the echo answer to the last user message.
 */
export function echoConversationTokens(
  encoding: HarmonyEncoding,
  conversation: EngineRequest['conversation'],
  fault?: EngineFault,
): number[] {
  const question = lastUserText(conversation);
  const turn = echoToolTurn(conversation.messages, question);
  if (turn?.kind === 'answer') return echoCompletionTokens(encoding, question, fault, turn);
  if (turn?.kind !== 'call') return echoCompletionTokens(encoding, question, fault);
  const special = (text: string) => encoding.encode(text, { allowedSpecial: 'all' });
  return [
    ...special('<|channel|>analysis<|message|>'),
    ...encoding.encodeOrdinary(turn.analysis),
    ...special('<|end|><|start|>'),
    ...encoding.encodeOrdinary(`assistant to=${turn.recipient}`),
    ...special('<|channel|>'),
    ...encoding.encodeOrdinary('commentary '),
    ...special('<|constrain|>'),
    ...encoding.encodeOrdinary('json'),
    ...special('<|message|>'),
    ...encoding.encodeOrdinary(turn.arguments),
    ...special('<|call|>'),
  ];
}

/** Completion tokens for an echo answer: what follows the prompt's trailing `<|start|>assistant`. */
export function echoCompletionTokens(
  encoding: HarmonyEncoding,
  question: string,
  fault?: EngineFault,
  answer: { analysis: string; final: string } = echoAnswer(question),
): number[] {
  const { analysis, final } = answer;
  const header = (channel: string) =>
    fault?.kind === 'malformed-header' && channel === 'final'
      ? `<|channel|>${channel} stray header words<|message|>`
      : `<|channel|>${channel}<|message|>`;
  return [
    ...encoding.encode(header('analysis'), { allowedSpecial: 'all' }),
    ...encoding.encodeOrdinary(analysis),
    ...encoding.encode('<|end|><|start|>assistant', { allowedSpecial: 'all' }),
    ...encoding.encode(header('final'), { allowedSpecial: 'all' }),
    ...encoding.encodeOrdinary(final),
    ...encoding.encode('<|return|>', { allowedSpecial: 'all' }),
  ];
}

function delay(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal.aborted) {
      reject(signal.reason);
      return;
    }
    const timer = setTimeout(() => {
      signal.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal.reason);
    };
    signal.addEventListener('abort', onAbort, { once: true });
  });
}

export function createEchoEngine(options: EchoEngineOptions = {}): Engine {
  const delayMs = options.delayMs ?? 0;
  let encoding: HarmonyEncoding | undefined;
  return {
    name: 'echo',
    async *generate(request: EngineRequest): AsyncIterable<EngineEvent> {
      encoding ??= nodeHarmonyEncoding();
      const fault = request.fault ?? options.fault;
      const tokens = echoConversationTokens(encoding, request.conversation, fault);
      const limit = Math.min(tokens.length, request.maxTokens);
      for (let index = 0; index < limit; index += 1) {
        if (fault?.kind === 'disconnect' && index === fault.afterTokens) throw new DisconnectFault();
        if (fault?.kind === 'error' && index === fault.afterTokens) {
          throw new EngineError('ENGINE_FAULT', 'injected engine fault');
        }
        if (fault?.kind === 'stall' && index === 3) {
          // Hold the stream open until the router gives up or the client leaves.
          await new Promise<never>((_, reject) =>
            request.signal.addEventListener('abort', () => reject(request.signal.reason), { once: true }),
          );
        }
        if (delayMs > 0) await delay(delayMs, request.signal);
        else if (index % 64 === 63) await new Promise<void>((resolve) => setImmediate(resolve));
        if (request.signal.aborted) throw request.signal.reason;
        yield { type: 'tokens', ids: [tokens[index] as number] };
      }
      yield {
        type: 'done',
        finish: limit < tokens.length ? 'length' : tokens[limit - 1] === CALL ? 'tool_call' : 'stop',
        promptTokens: request.promptTokens.length,
        completionTokens: limit,
      };
    },
  };
}
