/**
 * The public surface of harmony-hpke/harmony: explicit named exports (no `export *`, so nothing
 * becomes public by being exported from an inner module), exactly the documented list.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import * as harmony from '../../src/harmony/index.js';
import { repoRoot } from './helpers.js';

describe('harmony-hpke/harmony public API', () => {
  test('src/harmony/index.ts names every export', () => {
    const source = readFileSync(path.join(repoRoot, 'src', 'harmony', 'index.ts'), 'utf8');
    expect(source).not.toMatch(/export\s*\*/);
  });

  test('the runtime exports are the documented ones', () => {
    expect(Object.keys(harmony).sort()).toEqual(
      [
        // the encoding
        'HarmonyEncoding', 'HarmonyEncodingName', 'loadHarmonyEncoding',
        // the model
        'Author', 'ChannelConfig', 'Conversation', 'DeveloperContent', 'Message', 'ReasoningEffort', 'RenderConversationConfig',
        'RenderOptions', 'Role', 'SystemContent', 'TextContent', 'ToolDescription', 'ToolNamespaceConfig',
        // parsing
        'StreamState', 'StreamableParser',
        // special tokens
        'STOP_TOKENS', 'STOP_TOKENS_FOR_ASSISTANT_ACTIONS', 'SpecialToken', 'SpecialTokenText', 'VOCAB_SIZE', 'specialTokenId', 'specialTokenText',
        // errors
        'HarmonyErrorCode', 'HarmonyParseError', 'UsageError',
      ].sort(),
    );
  });
});
