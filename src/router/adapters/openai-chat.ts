/**
 * `serve --harmony off --upstream-api chat`: for upstreams that expose no raw-token completions
 * API, the router does not render Harmony itself. It forwards the conversation to an
 * OpenAI-compatible chat-completions endpoint (POST {url}/v1/chat/completions, `stream: true`),
 * which renders gpt-oss's prompt and parses the model's Harmony output itself, and maps the
 * streamed fields back to Harmony tokens for the encrypted stream:
 *
 * - `delta.reasoning_content` (vLLM, SGLang, llama.cpp) or `delta.reasoning` (newer servers,
 *   OpenRouter-style): an `analysis` message;
 * - `delta.content`: the `final` message;
 * - `delta.tool_calls` (arguments streamed in pieces, assembled by index): one commentary
 *   tool-call message each, `finish: tool_call`.
 *
 * Like the Ollama adapter, the ids relayed are a re-rendering of what the server reports, not the
 * model's own tokens (docs/adapters.md).
 */
import type { EngineEvent, EngineRequest } from '../engine.js';
import { badStream, UpstreamError, UPSTREAM_ERROR_CODES } from './errors.js';
import { endpointUrl, UpstreamCall } from './http.js';
import { DEFAULT_TEMPERATURE, isRecord, modelName, optionalCount, optionalString, quoteReason, truncated } from './completion.js';
import { HarmonyRebuilder, toOllamaChat } from './ollama.js';
import { sseMessages } from './stream.js';
import { DEFAULT_TIMEOUT_MS, type UpstreamOptions } from './types.js';

export interface ChatMessage {
  readonly role: 'system' | 'user' | 'assistant' | 'tool';
  readonly content: string;
  readonly tool_calls?: { id: string; type: 'function'; function: { name: string; arguments: string } }[];
  readonly tool_call_id?: string;
}

/** The conversation (openai-harmony JSON) as chat-completions messages and tools. */
export function toChatCompletions(messages: readonly unknown[]): { messages: ChatMessage[]; tools: unknown[] } {
  const chat = toOllamaChat(messages);
  const out: ChatMessage[] = [];
  let calls = 0;
  const pending: string[] = [];
  for (const message of chat.messages) {
    if (message.role === 'assistant' && message.tool_calls !== undefined) {
      out.push({
        role: 'assistant',
        content: message.content,
        tool_calls: message.tool_calls.map((call) => {
          calls += 1;
          const id = `call_${calls}`;
          pending.push(id);
          return { id, type: 'function' as const, function: { name: call.function.name, arguments: JSON.stringify(call.function.arguments) } };
        }),
      });
    } else if (message.role === 'tool') {
      // Answers follow their calls in order: each takes the oldest call still unanswered.
      out.push({ role: 'tool', content: message.content, tool_call_id: pending.shift() ?? `call_${calls}` });
    } else if (message.role === 'assistant' && message.content === '') {
      // Reasoning alone (no answer yet): chat servers do not take earlier reasoning back.
      continue;
    } else {
      out.push({ role: message.role, content: message.content });
    }
  }
  return { messages: out, tools: chat.tools };
}

function reasoningEffortOf(request: EngineRequest): 'low' | 'medium' | 'high' | undefined {
  return request.reasoningEffort;
}

export function chatBody(request: EngineRequest, options: UpstreamOptions): unknown {
  const { messages, tools } = toChatCompletions(request.conversation.messages);
  const effort = reasoningEffortOf(request);
  return {
    model: modelName(request, options),
    messages,
    ...(tools.length > 0 ? { tools } : {}),
    stream: true,
    stream_options: { include_usage: true },
    max_tokens: request.maxTokens,
    temperature: request.temperature ?? DEFAULT_TEMPERATURE,
    ...(effort !== undefined ? { reasoning_effort: effort } : {}),
  };
}

interface ToolCallDraft {
  name: string;
  args: string;
}

export async function* runChat(request: EngineRequest, options: UpstreamOptions): AsyncGenerator<EngineEvent> {
  const call = new UpstreamCall({
    url: endpointUrl(options.url, 'v1/chat/completions'),
    body: chatBody(request, options),
    accept: 'text/event-stream',
    apiKey: options.apiKey,
    timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
    signal: request.signal,
  });
  const rebuilder = new HarmonyRebuilder(options.tokenizer);
  const drafts: ToolCallDraft[] = [];
  let emitted = 0;
  let finish: 'stop' | 'length' | 'tool_calls' | undefined;
  let promptTokens: number | undefined;
  let completionTokens: number | undefined;
  let sawDone = false;
  try {
    await call.open();
    for await (const message of sseMessages(call.text())) {
      call.throwIfCancelled();
      if (message.type === 'done') {
        sawDone = true;
        break;
      }
      const value = message.value;
      if (!isRecord(value)) throw badStream('the upstream sent an event that is not a JSON object');
      if (value['error'] !== undefined && value['error'] !== null) {
        throw new UpstreamError(UPSTREAM_ERROR_CODES.streamError, 'the upstream reported an error in the stream');
      }
      const usage = value['usage'];
      if (isRecord(usage)) {
        promptTokens = optionalCount(usage['prompt_tokens']) ?? promptTokens;
        completionTokens = optionalCount(usage['completion_tokens']) ?? completionTokens;
      }
      const choices = value['choices'];
      if (choices === undefined || (Array.isArray(choices) && choices.length === 0)) continue;
      if (!Array.isArray(choices) || !isRecord(choices[0])) throw badStream("the upstream sent 'choices' that is not an array of objects");
      const choice = choices[0];
      const delta = choice['delta'];
      const batch: number[] = [];
      if (delta !== undefined && delta !== null) {
        if (!isRecord(delta)) throw badStream("the upstream sent a 'delta' that is not an object");
        const reasoning = optionalString(delta['reasoning_content'], "'reasoning_content'") ?? optionalString(delta['reasoning'], "'reasoning'") ?? '';
        batch.push(...rebuilder.thinking(reasoning));
        batch.push(...rebuilder.content(optionalString(delta['content'], "'content'") ?? ''));
        const toolCalls = delta['tool_calls'];
        if (toolCalls !== undefined && toolCalls !== null) {
          if (!Array.isArray(toolCalls)) throw badStream("the upstream sent 'tool_calls' that is not an array");
          for (const part of toolCalls) {
            if (!isRecord(part)) throw badStream('the upstream sent a tool call that is not an object');
            const index = typeof part['index'] === 'number' && Number.isSafeInteger(part['index']) ? part['index'] : drafts.length;
            if (index < 0 || index > 64) throw badStream('the upstream sent a tool call index out of range');
            const draft = (drafts[index] ??= { name: '', args: '' });
            const fn = part['function'];
            if (isRecord(fn)) {
              draft.name += optionalString(fn['name'], "'function.name'") ?? '';
              draft.args += optionalString(fn['arguments'], "'function.arguments'") ?? '';
            }
          }
        }
      }
      if (batch.length > 0) {
        emitted += batch.length;
        yield { type: 'tokens', ids: batch };
      }
      const reason = choice['finish_reason'];
      if (reason !== undefined && reason !== null) {
        if (reason !== 'stop' && reason !== 'length' && reason !== 'tool_calls') {
          throw new UpstreamError(UPSTREAM_ERROR_CODES.streamError, `the upstream ended the generation with finish reason ${quoteReason(reason)}`);
        }
        finish = reason;
      }
    }
    if (finish === undefined) {
      throw truncated(sawDone ? 'the upstream stream ended without a finish reason' : 'the upstream stream ended before [DONE] and a finish reason');
    }
  } catch (error) {
    if (error instanceof UpstreamError) throw error;
    throw request.signal.aborted ? call.failure(error, 'read') : error;
  } finally {
    call.close();
  }
  const tail: number[] = [];
  for (const draft of drafts) {
    if (draft === undefined) continue;
    if (draft.name === '') throw badStream('the upstream sent a tool call without a function name');
    tail.push(...rebuilder.toolCall(draft.name, draft.args === '' ? '{}' : draft.args));
  }
  const last = rebuilder.finish(finish === 'length' ? 'length' : 'stop');
  tail.push(...last.ids);
  emitted += tail.length;
  if (tail.length > 0) yield { type: 'tokens', ids: tail };
  yield {
    type: 'done',
    finish: last.finish,
    promptTokens: promptTokens ?? request.promptTokens.length,
    completionTokens: completionTokens ?? emitted,
  };
}
