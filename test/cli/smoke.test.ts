/**
 * `smoke`, as a CI job runs it, against real router processes: a passing run (one line per check
 * with time to first byte, to first final token and tokens/s), NDJSON, JUnit XML with test cases
 * and failures, and the exit code of the first failure: 10 for an --expect mismatch, 4 for a pin
 * mismatch, 7 for a stream cut short.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeSandbox, runCliInProcess } from '../helpers/cli.js';
import { startRouterProcess, type RouterProcess } from '../helpers/router-process.js';
import { expectOneErrorLine } from './support.js';

const sandbox = makeSandbox();
const env = sandbox.env;
let router: RouterProcess;
let cut: RouterProcess;

interface XmlElement {
  readonly name: string;
  readonly attributes: Record<string, string>;
  readonly children: XmlElement[];
}

const ENTITIES: Record<string, string> = { lt: '<', gt: '>', amp: '&', quot: '"', apos: "'" };

function unescapeXml(text: string): string {
  return text.replace(/&(#\d+|#x[0-9a-fA-F]+|\w+);/g, (_, entity: string) =>
    entity.startsWith('#x')
      ? String.fromCodePoint(parseInt(entity.slice(2), 16))
      : entity.startsWith('#')
        ? String.fromCodePoint(Number(entity.slice(1)))
        : (ENTITIES[entity] ?? `&${entity};`),
  );
}

/**
 * A strict well-formedness check for the small XML subset JUnit reports use (declaration,
 * elements, double-quoted attributes, whitespace between elements): throws on anything else.
 */
function parseXml(xml: string): XmlElement {
  const declaration = /^<\?xml version="1\.0" encoding="UTF-8"\?>\n/.exec(xml);
  if (!declaration) throw new Error('no XML declaration');
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/.test(xml)) throw new Error('a character XML 1.0 forbids');
  const tag = /<(\/?)([A-Za-z_][\w.-]*)((?:\s+[A-Za-z_][\w.-]*="[^"<]*")*)\s*(\/?)>/y;
  const attribute = /([A-Za-z_][\w.-]*)="([^"<]*)"/g;
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  let at = declaration[0].length;
  while (at < xml.length) {
    const next = xml.indexOf('<', at);
    const text = xml.slice(at, next < 0 ? xml.length : next);
    if (text.trim() !== '') throw new Error(`unexpected text ${JSON.stringify(text)}`);
    if (next < 0) break;
    tag.lastIndex = next;
    const match = tag.exec(xml);
    if (!match) throw new Error(`malformed tag at ${next}: ${xml.slice(next, next + 40)}`);
    const [, closing, name, attributeText, selfClosing] = match as unknown as [string, string, string, string, string];
    if (closing) {
      const open = stack.pop();
      if (open?.name !== name) throw new Error(`</${name}> closes <${open?.name}>`);
    } else {
      const attributes: Record<string, string> = {};
      for (const [, key, value] of attributeText.matchAll(attribute)) {
        if (/&(?!(#\d+|#x[0-9a-fA-F]+|lt|gt|amp|quot|apos);)/.test(value as string)) throw new Error(`a bare & in ${key}`);
        if ((key as string) in attributes) throw new Error(`duplicate attribute ${key}`);
        attributes[key as string] = unescapeXml(value as string);
      }
      const element: XmlElement = { name, attributes, children: [] };
      if (stack.length > 0) stack.at(-1)?.children.push(element);
      else if (root) throw new Error('a second root element');
      else root = element;
      if (!selfClosing) stack.push(element);
    }
    at = tag.lastIndex;
  }
  if (stack.length > 0 || !root) throw new Error('unclosed elements');
  return root;
}

beforeAll(async () => {
  [router, cut] = await Promise.all([
    startRouterProcess(sandbox.dir, ['--render-workers', '0', ], env),
    startRouterProcess(sandbox.dir, ['--render-workers', '0', '--fault', 'disconnect:5'], env),
  ]);
});

afterAll(async () => {
  await Promise.all([router?.stop(), cut?.stop()]);
  sandbox.cleanup();
});

describe('smoke', () => {
  it('passes against the router: one line per check, with the timings', async () => {
    const result = await runCliInProcess(['smoke', '--router', router.url, '--prompt', 'What is 2+2?', '--prompt', 'What is 3*3?', '--expect', '= \\d+\\.$'], {
      env,
    });
    expect(result.code, result.stderr).toBe(0);
    const lines = result.stdout.trimEnd().split('\n');
    expect(lines).toHaveLength(3);
    expect(lines[0]).toBe(`ok   key config ${router.fingerprint} (kid 0)`);
    expect(lines[1]).toMatch(/^ok {3}What is 2\+2\? ttfb=\d+ms first_final=\d+ms \d+\.\d tok\/s finish=stop$/);
    expect(lines[2]).toMatch(/^ok {3}What is 3\*3\? ttfb=\d+ms first_final=\d+ms \d+\.\d tok\/s finish=stop$/);
    expect(result.stderr).toBe(`harmony-hpke: all 3 checks passed against ${router.url}\n`);
  });

  it('--json: one NDJSON record per check, with numbers for the timings', async () => {
    const result = await runCliInProcess(['smoke', '--router', router.url, '--key-pin', router.fingerprint, '--json'], { env });
    expect(result.code, result.stderr).toBe(0);
    const records = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records).toHaveLength(2);
    expect(records[0]).toMatchObject({ type: 'case', name: `key config ${router.fingerprint}`, ok: true });
    expect(records[1]).toMatchObject({ type: 'case', name: 'What is 2+2?', ok: true, finish: 'stop' });
    for (const field of ['seconds', 'ttfb_ms', 'first_final_ms', 'tokens_per_second']) {
      expect(typeof records[1]?.[field], field).toBe('number');
    }
    expect(result.stderr).toBe('');
  });

  it('--expect mismatch: exit 10, and a JUnit report with every case and the failure', async () => {
    const junit = join(sandbox.dir, 'expect.xml');
    const result = await runCliInProcess(
      ['smoke', '--router', router.url, '--prompt', 'What is 2+2?', '--prompt', 'What is 3+3? <"&">', '--expect', '\\b4\\b', '--junit', junit],
      { env },
    );
    expect(result.code).toBe(10);
    expectOneErrorLine(result.stderr, 'UNEXPECTED_ANSWER');
    expect(result.stdout.trimEnd().split('\n').at(-1)).toMatch(/^FAIL What is 3\+3\? <"&"> the answer does not match .+"3 \+ 3 = 6\." \(UNEXPECTED_ANSWER\)$/);

    const suites = parseXml(readFileSync(junit, 'utf8'));
    expect(suites.name).toBe('testsuites');
    expect(suites.attributes).toMatchObject({ tests: '3', failures: '1' });
    const suite = suites.children[0] as XmlElement;
    expect(suite.name).toBe('testsuite');
    expect(suite.attributes).toMatchObject({ tests: '3', failures: '1' });
    expect(suite.children.map((testcase) => [testcase.name, testcase.attributes['name']])).toEqual([
      ['testcase', `key config ${router.fingerprint}`],
      ['testcase', 'What is 2+2?'],
      ['testcase', 'What is 3+3? <"&">'],
    ]);
    expect(suite.children.slice(0, 2).every((testcase) => testcase.children.length === 0)).toBe(true);
    const failure = suite.children[2]?.children[0] as XmlElement;
    expect(failure.name).toBe('failure');
    expect(failure.attributes['type']).toBe('UNEXPECTED_ANSWER');
    expect(failure.attributes['message']).toContain('3 + 3 = 6.');
    for (const testcase of suite.children) expect(Number(testcase.attributes['time'])).toBeGreaterThanOrEqual(0);
  });

  it('a pin mismatch: exit 4, no prompt sent, the failure in the report', async () => {
    const junit = join(sandbox.dir, 'pin.xml');
    const other = `sha256:${'ab'.repeat(32)}`;
    const result = await runCliInProcess(['smoke', '--router', router.url, '--key-pin', other, '--junit', junit], { env });
    expect(result.code).toBe(4);
    expectOneErrorLine(result.stderr, 'PIN_MISMATCH');
    expect(result.stdout).toBe(`FAIL key config the router's key ${router.fingerprint} does not match the pinned fingerprint ${other} (pin from --key-pin) (PIN_MISMATCH)\n`);
    const suite = parseXml(readFileSync(junit, 'utf8')).children[0] as XmlElement;
    expect(suite.attributes).toMatchObject({ tests: '1', failures: '1' });
    expect(suite.children[0]?.children[0]?.attributes['type']).toBe('PIN_MISMATCH');
  });

  it('a stream cut short (the router dies after 5 tokens): exit 7', async () => {
    const result = await runCliInProcess(['smoke', '--router', cut.url, '--json'], { env });
    expect(result.code).toBe(7);
    expectOneErrorLine(result.stderr, 'STREAM_TRUNCATED');
    const records = result.stdout.trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(records.map((record) => record['ok'])).toEqual([true, false]);
    expect(records[1]).toMatchObject({ code: 'STREAM_TRUNCATED', exit_code: 7 });
  });

  it('needs a router', async () => {
    const result = await runCliInProcess(['smoke'], { env });
    expect(result.code).toBe(2);
    expectOneErrorLine(result.stderr, 'NO_ROUTER');
  });
});
