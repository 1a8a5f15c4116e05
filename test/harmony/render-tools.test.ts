/**
 * The TypeScript-like rendering of JSON schemas beyond the golden kitchensink. Expected strings
 * follow `json_schema_to_typescript` in openai/harmony src/encoding.rs line by line (including its
 * quirks: a nested object's description is written twice, oneOf variants get three extra spaces).
 */
import { describe, expect, test } from 'vitest';
import { jsonSchemaToTypescript, rustLines } from '../../src/harmony/render-tools.js';
import type { JsonValue } from '../../src/harmony/index.js';

const cases: Array<[string, JsonValue, string]> = [
  [
    'nested object with description, required and optional fields',
    {
      type: 'object',
      properties: {
        loc: { type: 'object', description: 'A location', properties: { lat: { type: 'number' }, lon: { type: 'number' } }, required: ['lat'] },
      },
      required: ['loc'],
    },
    '{\n// A location\nloc:     // A location\n{\n    lat: number,\n    lon?: number,\n    },\n}',
  ],
  [
    'arrays, type lists, nullable, non-string enums, enum defaults, untyped',
    {
      type: 'object',
      properties: {
        items: { type: 'array', items: { type: 'object', properties: { id: { type: 'integer' } } } },
        any: { type: 'array' },
        t: { type: ['integer', 'null'] },
        n: { type: 'integer', nullable: true, default: 3 },
        e: { type: 'number', enum: [1, 2] },
        d: { type: 'string', enum: ['x'], default: 'x' },
        z: {},
      },
    },
    '{\nitems?: {\n    id?: number,\n    }[],\nany?: Array<any>,\nt?: number | null,\nn?: number | null, // default: 3\ne?: number,\nd?: "x", // default: x\nz?: any,\n}',
  ],
  [
    'top-level oneOf with descriptions, nullable and an object default',
    { oneOf: [{ type: 'string', description: 'd1' }, { type: 'object', properties: { a: { type: 'string' } }, nullable: true, default: { a: 'b' } }] },
    '\n | string // d1\n | {\n   a?: string,\n   } | null // default: {"a":"b"}',
  ],
  [
    'property oneOf whose description repeats the first variant, enum default written raw',
    {
      type: 'object',
      properties: {
        p: { oneOf: [{ type: 'string', description: 'same' }, { type: 'integer', enum: ['a'], default: 'a' }], description: 'same', default: 'q' },
      },
    },
    '{\n// default: "q"\np?:\n | string\n | number // default: a\n,\n}',
  ],
];

describe('jsonSchemaToTypescript', () => {
  test.each(cases)('%s', (_name, schema, expected) => {
    expect(jsonSchemaToTypescript(schema, '')).toBe(expected);
  });
});

describe("rustLines (Rust's str::lines)", () => {
  test.each([
    ['', []],
    ['a', ['a']],
    ['a\n', ['a']],
    ['a\n\nb', ['a', '', 'b']],
    ['a\r\nb\r', ['a', 'b\r']],
    ['\n', ['']],
  ] as Array<[string, string[]]>)('%j', (text, lines) => {
    expect(rustLines(text)).toEqual(lines);
  });
});
