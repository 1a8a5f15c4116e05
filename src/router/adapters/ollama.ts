/**
 * Ollama's chat endpoint. Ollama takes no token ids and returns none: it renders gpt-oss's prompt
 * itself from chat messages and parses the model's Harmony output into `thinking`, `content` and
 * `tool_calls`. So this adapter
 *
 * - maps the conversation (openai-harmony JSON) to Ollama messages: developer instructions become a
 *   `system` message, developer function tools become `tools`, `analysis` messages become the next
 *   assistant message's `thinking`, commentary messages to `functions.NAME` become `tool_calls`,
 *   tool messages from `functions.NAME` become `tool` messages with `tool_name`;
 * - POSTs {url}/api/chat with `stream: true`, `think` set from the reasoning effort and
 *   `options.num_predict`; reads NDJSON;
 * - RECONSTRUCTS Harmony from the fields it gets back: an `analysis` message from `thinking`, a
 *   `final` message from `content`, and one commentary tool-call message per tool call
 *   (`<|channel|>commentary to=functions.NAME <|constrain|>json<|message|>{args}<|call|>`),
 *   tokenized with the Harmony tokenizer and streamed as the fields arrive.
 *
 * The ids relayed are therefore a faithful re-rendering of what Ollama reports, not the model's own
 * tokens (see docs/adapters.md for what this loses).
 */
import type { EngineEvent, EngineRequest } from '../engine.js';
import { badStream, UpstreamError, UPSTREAM_ERROR_CODES } from './errors.js';
import { endpointUrl, UpstreamCall } from './http.js';
import {
  DEFAULT_TEMPERATURE,
  isRecord,
  modelName,
  optionalCount,
  optionalString,
  quoteReason,
  truncated,
} from './completion.js';
import { HARMONY_IDS } from './special-tokens.js';
import { IncrementalEncoder, ndjsonMessages } from './stream.js';
import { DEFAULT_TIMEOUT_MS, type HarmonyTokenizer, type UpstreamOptions } from './types.js';

// ---------------------------------------------------------------------------------------------
// Conversation to Ollama messages

export interface OllamaToolCall {
  readonly function: { readonly name: string; readonly arguments: Record<string, unknown> };
}

export interface OllamaMessage {
  readonly role: 'system' | 'user' | 'assistant' | 'tool';
  readonly content: string;
  readonly thinking?: string;
  readonly tool_calls?: OllamaToolCall[];
  readonly tool_name?: string;
}

export interface OllamaTool {
  readonly type: 'function';
  readonly function: { readonly name: string; readonly description?: string; readonly parameters?: unknown };
}

function roleOf(message: Record<string, unknown>): string | undefined {
  const role = message['role'] ?? (isRecord(message['author']) ? message['author']['role'] : undefined);
  return typeof role === 'string' ? role : undefined;
}

function nameOf(message: Record<string, unknown>): string | undefined {
  const name = message['name'] ?? (isRecord(message['author']) ? message['author']['name'] : undefined);
  return typeof name === 'string' ? name : undefined;
}

function contentItems(message: Record<string, unknown>): unknown[] {
  const content = message['content'];
  if (typeof content === 'string') return [{ type: 'text', text: content }];
  return Array.isArray(content) ? content : [];
}

function textOf(message: Record<string, unknown>): string {
  return contentItems(message)
    .map((item) => (isRecord(item) && item['type'] === 'text' && typeof item['text'] === 'string' ? item['text'] : ''))
    .join('');
}

function functionTools(tools: unknown): OllamaTool[] {
  // openai-harmony: `tools` maps namespace names to {name, description, tools: [...]}.
  const namespaces = Array.isArray(tools) ? tools : isRecord(tools) ? Object.values(tools) : [];
  const out: OllamaTool[] = [];
  for (const namespace of namespaces) {
    if (!isRecord(namespace) || namespace['name'] !== 'functions' || !Array.isArray(namespace['tools'])) continue;
    for (const tool of namespace['tools']) {
      if (!isRecord(tool) || typeof tool['name'] !== 'string') continue;
      out.push({
        type: 'function',
        function: {
          name: tool['name'],
          ...(typeof tool['description'] === 'string' ? { description: tool['description'] } : {}),
          ...(tool['parameters'] !== undefined ? { parameters: tool['parameters'] } : {}),
        },
      });
    }
  }
  return out;
}

function parseArguments(text: string): Record<string, unknown> {
  try {
    const value = JSON.parse(text) as unknown;
    return isRecord(value) ? value : {};
  } catch {
    return {};
  }
}

/**
 * Maps openai-harmony JSON messages to Ollama chat messages and tools. The system message is left
 * out: Ollama renders gpt-oss's system message itself (with `think` as the reasoning effort).
 */
export function toOllamaChat(messages: readonly unknown[]): { messages: OllamaMessage[]; tools: OllamaTool[] } {
  const out: OllamaMessage[] = [];
  const tools: OllamaTool[] = [];
  let thinking = '';
  const takeThinking = (): { thinking?: string } => {
    const taken = thinking;
    thinking = '';
    return taken === '' ? {} : { thinking: taken };
  };
  for (const raw of messages) {
    if (!isRecord(raw)) continue;
    const role = roleOf(raw);
    const text = textOf(raw);
    if (role === 'developer') {
      const parts: string[] = [];
      for (const item of contentItems(raw)) {
        if (!isRecord(item)) continue;
        if (item['type'] === 'developer_content') {
          if (typeof item['instructions'] === 'string' && item['instructions'] !== '') parts.push(item['instructions']);
          tools.push(...functionTools(item['tools']));
        } else if (item['type'] === 'text' && typeof item['text'] === 'string') {
          parts.push(item['text']);
        }
      }
      if (parts.length > 0) out.push({ role: 'system', content: parts.join('\n') });
    } else if (role === 'user') {
      out.push({ role: 'user', content: text });
    } else if (role === 'assistant') {
      const recipient = typeof raw['recipient'] === 'string' ? raw['recipient'] : undefined;
      if (recipient !== undefined && recipient.startsWith('functions.')) {
        out.push({
          role: 'assistant',
          content: '',
          ...takeThinking(),
          tool_calls: [{ function: { name: recipient.slice('functions.'.length), arguments: parseArguments(text) } }],
        });
      } else if (raw['channel'] === 'analysis') {
        thinking += text;
      } else {
        out.push({ role: 'assistant', content: text, ...takeThinking() });
      }
    } else if (role === 'tool') {
      const name = nameOf(raw) ?? '';
      out.push({ role: 'tool', content: text, tool_name: name.replace(/^functions\./, '') });
    }
  }
  if (thinking !== '') out.push({ role: 'assistant', content: '', ...takeThinking() });
  return { messages: out, tools };
}

function reasoningEffortOf(request: EngineRequest): 'low' | 'medium' | 'high' {
  if (request.reasoningEffort !== undefined) return request.reasoningEffort;
  for (const raw of request.conversation.messages) {
    if (!isRecord(raw) || roleOf(raw) !== 'system') continue;
    for (const item of contentItems(raw)) {
      const effort = isRecord(item) ? item['reasoning_effort'] : undefined;
      if (typeof effort === 'string') {
        const lower = effort.toLowerCase();
        if (lower === 'low' || lower === 'medium' || lower === 'high') return lower;
      }
    }
  }
  return 'medium';
}

export function ollamaBody(request: EngineRequest, options: UpstreamOptions): unknown {
  const { messages, tools } = toOllamaChat(request.conversation.messages);
  return {
    model: modelName(request, options),
    messages,
    ...(tools.length > 0 ? { tools } : {}),
    stream: true,
    think: reasoningEffortOf(request),
    options: {
      num_predict: request.maxTokens,
      temperature: request.temperature ?? DEFAULT_TEMPERATURE,
    },
  };
}

// ---------------------------------------------------------------------------------------------
// Ollama's fields back to Harmony tokens

/**
 * Re-renders Ollama's streamed fields as the Harmony completion gpt-oss would have produced:
 * each method returns the token ids that are final so far.
 */
export class HarmonyRebuilder {
  private phase: 'none' | 'analysis' | 'final' = 'none';
  private messages = 0;
  private toolCalls = 0;
  private encoder: IncrementalEncoder;

  constructor(private readonly tokenizer: HarmonyTokenizer) {
    this.encoder = new IncrementalEncoder(tokenizer);
  }

  get sawToolCall(): boolean {
    return this.toolCalls > 0;
  }

  thinking(text: string): number[] {
    return text === '' ? [] : [...this.enter('analysis'), ...this.encoder.push(text)];
  }

  content(text: string): number[] {
    return text === '' ? [] : [...this.enter('final'), ...this.encoder.push(text)];
  }

  toolCall(name: string, args: unknown): number[] {
    const out = this.close();
    // Arguments given as a string stay as written; only JSON gets `<|constrain|>json`.
    const body = typeof args === 'string' ? args : JSON.stringify(args ?? {});
    out.push(...this.header('commentary', `functions.${name}`, isJsonText(body)));
    // The arguments are the model's text: spellings of special tokens in them stay text.
    out.push(...ordinary(this.tokenizer, body), HARMONY_IDS.call);
    this.messages += 1;
    this.toolCalls += 1;
    return out;
  }

  /** The last ids and the finish reason. */
  finish(reason: 'stop' | 'length'): { ids: number[]; finish: 'stop' | 'length' | 'tool_call' } {
    if (reason === 'length') return { ids: this.encoder.flush(), finish: 'length' };
    if (this.toolCalls > 0) {
      // Text after the last call (unusual) is closed as its own message.
      return { ids: this.close(), finish: 'tool_call' };
    }
    const ids = this.phase === 'final' ? this.encoder.flush() : [...this.close(), ...this.enter('final')];
    ids.push(HARMONY_IDS.return);
    this.phase = 'none';
    return { ids, finish: 'stop' };
  }

  private enter(channel: 'analysis' | 'final'): number[] {
    if (this.phase === channel) return [];
    const out = this.close();
    out.push(...this.header(channel));
    this.phase = channel;
    this.messages += 1;
    return out;
  }

  /** Ends the open message, if any, with `<|end|>`. */
  private close(): number[] {
    if (this.phase === 'none') return [];
    const out = this.encoder.flush();
    out.push(HARMONY_IDS.end);
    this.phase = 'none';
    return out;
  }

  private header(channel: string, recipient?: string, json = true): number[] {
    const start = this.messages > 0 ? '<|start|>assistant' : '';
    const to = recipient !== undefined ? ` to=${recipient}${json ? ' <|constrain|>json' : ''}` : '';
    return this.tokenizer.encode(`${start}<|channel|>${channel}${to}<|message|>`, { allowedSpecial: 'all' });
  }
}

function isJsonText(text: string): boolean {
  try {
    JSON.parse(text);
    return true;
  } catch {
    return false;
  }
}

/** Text as ordinary tokens, when the tokenizer can (the real one can); else as encode() does. */
function ordinary(tokenizer: HarmonyTokenizer, text: string): number[] {
  return tokenizer.encodeOrdinary ? tokenizer.encodeOrdinary(text) : tokenizer.encode(text, { allowedSpecial: 'all' });
}

/**
 * Ollama reports failures inside a 200 stream as a JSON object with an `error` key
 * (`{"error":"error parsing tool call: raw='...', err=..."}`), and v0.11.3 put the description in
 * the key itself (`{"error parsing tool call": "invalid character 'c' ..."}`, ollama/ollama#11781).
 * Either is an upstream error, never a clean stop. The text is not repeated (it may echo the model's
 * output); only whether it was a tool-call parse failure.
 */
function ollamaError(value: Record<string, unknown>): UpstreamError | undefined {
  const keys = Object.keys(value).filter((key) => /^error\b/i.test(key) && value[key] !== null && value[key] !== undefined);
  if (keys.length === 0) return undefined;
  const said = keys.map((key) => `${key} ${typeof value[key] === 'string' ? (value[key] as string).slice(0, 64) : ''}`).join(' ');
  const toolCall = /parsing tool call/i.test(said);
  return new UpstreamError(
    UPSTREAM_ERROR_CODES.streamError,
    toolCall
      ? "the upstream (Ollama) failed to parse the model's tool call and reported an error in the stream"
      : 'the upstream reported an error in the stream',
  );
}

function toolCallsOf(value: unknown): { name: string; args: unknown }[] {
  if (value === undefined || value === null) return [];
  if (!Array.isArray(value)) throw badStream("the upstream sent 'tool_calls' that is not an array");
  return value.map((call) => {
    const fn = isRecord(call) ? call['function'] : undefined;
    if (!isRecord(fn) || typeof fn['name'] !== 'string' || fn['name'] === '') {
      throw badStream('the upstream sent a tool call without a function name');
    }
    return { name: fn['name'], args: fn['arguments'] };
  });
}

export async function* runOllama(request: EngineRequest, options: UpstreamOptions): AsyncGenerator<EngineEvent> {
  const call = new UpstreamCall({
    url: endpointUrl(options.url, 'api/chat'),
    body: ollamaBody(request, options),
    accept: 'application/x-ndjson',
    apiKey: options.apiKey,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    signal: request.signal,
  });
  const rebuilder = new HarmonyRebuilder(options.tokenizer);
  let emitted = 0;
  let done: { reason: 'stop' | 'length'; promptTokens?: number; completionTokens?: number } | undefined;
  try {
    await call.open();
    for await (const message of ndjsonMessages(call.text())) {
      call.throwIfCancelled();
      if (message.type !== 'json') continue;
      const value = message.value;
      if (!isRecord(value)) throw badStream('the upstream sent a line that is not a JSON object');
      const error = ollamaError(value);
      if (error) throw error;
      const batch: number[] = [];
      const chat = value['message'];
      if (chat !== undefined && chat !== null) {
        if (!isRecord(chat)) throw badStream("the upstream sent a 'message' that is not an object");
        batch.push(...rebuilder.thinking(optionalString(chat['thinking'], "'thinking'") ?? ''));
        batch.push(...rebuilder.content(optionalString(chat['content'], "'content'") ?? ''));
        for (const tool of toolCallsOf(chat['tool_calls'])) batch.push(...rebuilder.toolCall(tool.name, tool.args));
      }
      if (batch.length > 0) {
        emitted += batch.length;
        yield { type: 'tokens', ids: batch };
      }
      if (value['done'] === true) {
        const reason = value['done_reason'];
        if (reason !== 'stop' && reason !== 'length' && reason !== undefined) {
          throw new UpstreamError(
            UPSTREAM_ERROR_CODES.streamError,
            `the upstream ended the generation with done reason ${quoteReason(reason)}`,
          );
        }
        done = {
          reason: reason ?? 'stop',
          promptTokens: optionalCount(value['prompt_eval_count']),
          completionTokens: optionalCount(value['eval_count']),
        };
        break;
      }
    }
    if (done === undefined) throw truncated('the upstream stream ended without done: true');
  } catch (error) {
    if (error instanceof UpstreamError) throw error;
    throw request.signal.aborted ? call.failure(error, 'read') : error;
  } finally {
    call.close();
  }
  const last = rebuilder.finish(done.reason);
  emitted += last.ids.length;
  if (last.ids.length > 0) yield { type: 'tokens', ids: last.ids };
  yield {
    type: 'done',
    finish: last.finish,
    promptTokens: done.promptTokens ?? request.promptTokens.length,
    completionTokens: done.completionTokens ?? emitted,
  };
}
