/**
 * Shared pieces of the adapter tests: the real Harmony tokenizer, the completions the fixtures
 * replay (as text, encoded by the tokenizer), an engine request, and a runner that collects what
 * an engine yields or throws.
 */
import type { Engine, EngineEvent, EngineRequest } from '../../../src/router/engine.js';
import { loadHarmonyEncoding } from '../../../src/harmony/index.js';
import type { HarmonyTokenizer } from '../../../src/router/adapters/index.js';

/** The real o200k_harmony encoding (as the router passes it), typed as the adapters see it. */
export const tokenizer: HarmonyTokenizer = loadHarmonyEncoding('HarmonyGptOss');

export const ids = (text: string): number[] => tokenizer.encode(text, { allowedSpecial: 'all' });

const SYSTEM =
  '<|start|>system<|message|>You are ChatGPT, a large language model trained by OpenAI.\nKnowledge cutoff: 2024-06\nCurrent date: 2025-08-05\n\nReasoning: medium\n\n# Valid channels: analysis, commentary, final. Channel must be included for every message.';

/** The rendered prompt of "What is 2+2?" (74 tokens), as the fixtures' upstreams were sent it. */
export const PROMPT_TEXT = `${SYSTEM}<|end|><|start|>user<|message|>What is 2+2?<|end|><|start|>assistant`;

/** The rendered prompt of the weather question with a get_weather tool (128 tokens). */
export const TOOL_PROMPT_TEXT =
  `${SYSTEM}\nCalls to these tools must go to the commentary channel: 'functions'.<|end|>` +
  '<|start|>developer<|message|># Tools\n\n## functions\n\nnamespace functions {\n\n// Gets the current weather for a location.\ntype get_weather = (_: {\nlocation: string,\n}) => any;\n\n} // namespace functions<|end|>' +
  '<|start|>user<|message|>What is the weather in Tokyo?<|end|><|start|>assistant';

/** gpt-oss's answer to "What is 2+2?": an analysis message and a final message. */
export const ANSWER_TEXT =
  '<|channel|>analysis<|message|>User asks: "What is 2 + 2?" Simple arithmetic. Provide answer.<|end|>' +
  '<|start|>assistant<|channel|>final<|message|>2 + 2 = 4.<|return|>';

/** The same ids, written out (they agree with openai/harmony's golden test_simple_reasoning_response). */
export const ANSWER_IDS = [
  200005, 35644, 200008, 1844, 31064, 25, 392, 4827, 382, 220, 17, 659, 220, 17, 16842, 12295, 81645, 13, 51441, 6052,
  13, 200007, 200006, 173781, 200005, 17196, 200008, 17, 659, 220, 17, 314, 220, 19, 13, 200002,
];

/** A tool call: analysis, then a commentary message to functions.get_weather ending in <|call|>. */
export const TOOL_CALL_TEXT =
  '<|channel|>analysis<|message|>User asks for the weather in Tokyo. Use get_weather.<|end|>' +
  '<|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{"location":"Tokyo"}<|call|>';

/** A final answer with multi-byte characters; " 🦙" is three tokens, none of them whole UTF-8. */
export const UTF8_TEXT = '<|channel|>final<|message|>2 + 2 = 4 — четыре, 四 ✅ 🦙<|return|>';

/** The answer cut by max tokens after 12 tokens (no closing token). */
export const LENGTH_IDS = ANSWER_IDS.slice(0, 12);

export const RETURN = 200002;
export const CALL = 200012;

/** The conversation of PROMPT_TEXT, in openai-harmony JSON. */
export const CONVERSATION = {
  messages: [
    {
      role: 'system',
      content: [
        {
          type: 'system_content',
          model_identity: 'You are ChatGPT, a large language model trained by OpenAI.',
          reasoning_effort: 'Medium',
          conversation_start_date: '2025-08-05',
          knowledge_cutoff: '2024-06',
          channel_config: { valid_channels: ['analysis', 'commentary', 'final'], channel_required: true },
        },
      ],
    },
    { role: 'user', content: [{ type: 'text', text: 'What is 2+2?' }] },
  ],
};

/** The conversation of TOOL_PROMPT_TEXT. */
export const TOOL_CONVERSATION = {
  messages: [
    CONVERSATION.messages[0],
    {
      role: 'developer',
      content: [
        {
          type: 'developer_content',
          tools: {
            functions: {
              name: 'functions',
              tools: [
                {
                  name: 'get_weather',
                  description: 'Gets the current weather for a location.',
                  parameters: { type: 'object', properties: { location: { type: 'string' } }, required: ['location'] },
                },
              ],
            },
          },
        },
      ],
    },
    { role: 'user', content: [{ type: 'text', text: 'What is the weather in Tokyo?' }] },
  ],
};

export function engineRequest(overrides: Partial<EngineRequest> = {}): EngineRequest {
  return {
    rid: 'rid-test-1',
    model: 'gpt-oss-20b',
    promptTokens: ids(PROMPT_TEXT),
    conversation: CONVERSATION,
    maxTokens: 256,
    stopTokens: [RETURN, CALL],
    signal: new AbortController().signal,
    ...overrides,
  };
}

export interface RunResult {
  readonly batches: number[][];
  readonly ids: number[];
  readonly done: Extract<EngineEvent, { type: 'done' }> | undefined;
  readonly events: EngineEvent[];
  readonly error: (Error & { code?: string; status?: number }) | undefined;
}

/** Runs an engine to its end, collecting its events and the error it throws, if any. */
export async function run(engine: Engine, request: EngineRequest): Promise<RunResult> {
  const events: EngineEvent[] = [];
  let error: RunResult['error'];
  try {
    for await (const event of engine.generate(request)) events.push(event);
  } catch (caught) {
    error = caught as RunResult['error'];
  }
  const batches = events.flatMap((event) => (event.type === 'tokens' ? [[...event.ids]] : []));
  const done = events.find((event): event is Extract<EngineEvent, { type: 'done' }> => event.type === 'done');
  return { batches, ids: batches.flat(), done, events, error };
}
