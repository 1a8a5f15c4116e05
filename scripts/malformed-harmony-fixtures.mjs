// Regenerates fixtures/malformed-harmony/cases.json: completions in the malformed shapes real
// gpt-oss servers were reported to emit (each with its public source), as text and as token ids
// from the real o200k_harmony tokenizer. Run after `npm run build`:
//   node scripts/malformed-harmony-fixtures.mjs
import { writeFileSync } from 'node:fs';
import { loadHarmonyEncoding } from '../dist/src/harmony/index.js';

const A = '<|channel|>analysis<|message|>Need the weather. Use get_weather.<|end|>';
const CALL = '{"location":"Paris"}';
const cases = [
  {
    name: 'junk-before-channel-name',
    source: 'issue 15 of this project (shape `<|channel|>––commentary`); junk channel headers: https://github.com/ggml-org/llama.cpp/issues/27720',
    text: `${A}<|start|>assistant<|channel|>––commentary to=functions.get_weather <|constrain|>json<|message|>${CALL}<|call|>`,
  },
  {
    name: 'channel-name-with-question-marks',
    source: 'https://github.com/ggml-org/llama.cpp/issues/27720 (`commentary?commentary?`)',
    text: `${A}<|start|>assistant<|channel|>commentary?commentary? to=functions.get_weather <|constrain|>json<|message|>${CALL}<|call|>`,
  },
  {
    name: 'channel-name-with-trailing-words',
    source: 'https://github.com/ggml-org/llama.cpp/issues/27720 (`commentary 2?`)',
    text: `${A}<|start|>assistant<|channel|>final 2?<|message|>It is sunny.<|return|>`,
  },
  {
    name: 'doubled-channel-marker',
    source: 'https://github.com/ggml-org/llama.cpp/issues/27720 (`<|channel|>commentary to=assistant<|channel|>commentary?...`)',
    text: `${A}<|start|>assistant<|channel|>commentary to=functions.get_weather<|channel|>commentary? <|constrain|>json<|message|>${CALL}<|call|>`,
  },
  {
    name: 'unicode-spaces-in-header',
    source: 'https://github.com/ggml-org/llama.cpp/pull/15181 ("the model is emitting unicode space characters")',
    text: `${A}<|start|>assistant<|channel|>\u2009commentary\u00a0to=functions.get_weather\u202f<|constrain|>json<|message|>${CALL}<|call|>`,
  },
  {
    name: 'fullwidth-channel-name',
    source: 'look-alike characters in channel names (issue 15 of this project); NFKC folds full-width letters',
    text: `<|channel|>ａｎａｌｙｓｉｓ<|message|>Simple.<|end|><|start|>assistant<|channel|>Final<|message|>4<|return|>`,
  },
  {
    name: 'recipient-in-role-header',
    source: 'https://github.com/ggml-org/llama.cpp/pull/15181 (`<|start|>assistant to=functions.get_weather<|channel|>commentary <|constrain|>json<|message|>`)',
    text: `${A}<|start|>assistant to=functions.get_weather<|channel|>commentary <|constrain|>json<|message|>${CALL}<|call|>`,
  },
  {
    name: 'recipient-after-channel-json-word',
    source: 'https://github.com/ggml-org/llama.cpp/pull/15158 (`<|channel|>commentary to=functions.NAME json<|message|>`)',
    text: `${A}<|start|>assistant<|channel|>commentary to=functions.get_weather json<|message|>${CALL}<|call|>`,
  },
  {
    name: 'tool-call-on-analysis-channel',
    source: 'https://github.com/waybarrios/vllm-mlx/pull/562 (`<|channel|>analysis to=functions.ffgrep code<|message|>...<|call|>`)',
    text: `<|channel|>analysis<|message|>We need to run ffgrep.<|end|><|start|>assistant<|channel|>analysis to=functions.ffgrep code<|message|>{"path":"","pattern":"TextualDisplayView"}<|call|>`,
  },
  {
    name: 'hyphenated-tool-name',
    source: 'issue 15 of this project (`to=functions.web-browsing`)',
    text: `${A}<|start|>assistant<|channel|>commentary to=functions.web-browsing <|constrain|>json<|message|>{"query":"weather Paris"}<|call|>`,
  },
  {
    name: 'text-after-end-without-start',
    source: 'https://github.com/ggml-org/llama.cpp/pull/15181 (`<|channel|>analysis<|message|>{reasoning content}<|end|>{content}`)',
    text: '<|channel|>analysis<|message|>User asks 2+2. Simple.<|end|>2 + 2 = 4.',
  },
  {
    name: 'role-after-end-without-start',
    source: 'https://github.com/oobabooga/textgen/issues/7374 (`...politely.assistantfinalHello!`: the <|start|> lost between messages)',
    text: '<|channel|>analysis<|message|>Greeting. Respond politely.<|end|>assistant<|channel|>final<|message|>Hello!<|return|>',
  },
  {
    name: 'missing-end-before-final',
    source: 'https://github.com/open-webui/open-webui/issues/16305 (reasoning never ended before the next message)',
    text: '<|channel|>analysis<|message|>User asks 2+2. Simple.<|start|>assistant<|channel|>final<|message|>2 + 2 = 4.<|return|>',
  },
  {
    name: 'missing-end-before-tool-call',
    source: 'https://github.com/open-webui/open-webui/issues/16305 (the tool called without ending the reasoning)',
    text: `<|channel|>analysis<|message|>Need the weather.<|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>${CALL}<|call|>`,
  },
  {
    name: 'tool-call-ending-in-return',
    source: 'https://github.com/sgl-project/sglang/pull/10576 (GPT OSS tool calls ending with `<|return|>`)',
    text: `${A}<|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>${CALL}<|return|>`,
  },
  {
    name: 'tool-call-ending-in-end',
    source: 'https://github.com/ggml-org/llama.cpp/pull/15421 (gpt-oss return/end token inconsistency)',
    text: `${A}<|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>${CALL}<|end|>`,
  },
  {
    name: 'tool-call-cut-before-call',
    source: 'https://github.com/kekzl/imp/pull/1719 (the call arrived without its `<|call|>`)',
    text: `${A}<|start|>assistant<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>${CALL}`,
  },
  {
    name: 'call-token-on-analysis',
    source: 'https://github.com/ml-explore/mlx-lm/issues/613 (`<|call|>` where the turn was expected to continue)',
    text: '<|channel|>analysis<|message|>I will look it up.<|call|>',
  },
  {
    name: 'return-where-end-expected',
    source: 'https://github.com/openai/harmony/issues/57 and https://github.com/ggml-org/llama.cpp/pull/15421 (`<|return|>` vs `<|end|>`)',
    text: '<|channel|>analysis<|message|>Simple.<|return|><|start|>assistant<|channel|>final<|message|>4<|return|>',
  },
  {
    name: 'role-written-twice',
    source: 'https://github.com/tenstorrent/vllm/issues/386 (`Unknown role: assistantassistant`)',
    text: '<|channel|>analysis<|message|>Simple.<|end|><|start|>assistantassistant<|channel|>final<|message|>4<|return|>',
  },
  {
    name: 'start-twice',
    source: 'https://github.com/vllm-project/vllm/pull/43408 (`<|start|><|start|>assistant`)',
    text: '<|channel|>analysis<|message|>Simple.<|end|><|start|><|start|>assistant<|channel|>final<|message|>4<|return|>',
  },
  {
    name: 'stray-token-between-messages',
    source: 'https://github.com/vllm-project/vllm/pull/43408 (`<|end|> 364 <|start|>`: token 364 is ".\\n\\n")',
    text: '<|channel|>analysis<|message|>Simple.<|end|>.\n\n<|start|>assistant<|channel|>final<|message|>4<|return|>',
  },
  {
    name: 'empty-channel',
    source: 'https://github.com/vllm-project/vllm/pull/43408 and https://github.com/openai/harmony/issues/48 (`<|channel|><|message|>`)',
    text: '<|channel|>analysis<|message|>Simple.<|end|><|start|>assistant<|channel|><|message|>4<|return|>',
  },
];

const encoding = loadHarmonyEncoding('HarmonyGptOss');
const out = cases.map((c) => ({ ...c, ids: encoding.encode(c.text, { allowedSpecial: 'all' }) }));
writeFileSync(new URL('../fixtures/malformed-harmony/cases.json', import.meta.url), `${JSON.stringify(out, null, 1)}\n`);
console.log(`wrote ${out.length} cases`);
