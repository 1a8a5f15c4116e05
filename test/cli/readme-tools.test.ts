/**
 * The README's tools section, run as written: its tools file and tool script are extracted from
 * README.md, and each `harmony-hpke` line of its examples runs in bash (the embedded router for
 * ask, a real router process for smoke); the outputs shown in its comments are what they print.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, REPO_ROOT, makeSandbox, runCliInProcess } from '../helpers/cli.js';
import { startRouterProcess, type RouterProcess } from '../helpers/router-process.js';
import { runShell, sh } from './support.js';

const sandbox = makeSandbox();
let router: RouterProcess;

const readme = readFileSync(join(REPO_ROOT, 'README.md'), 'utf8');
const section = readme.slice(readme.indexOf('### Tools (function calling)'), readme.indexOf('### create-request, send, decode'));

/** The fenced block of this language right after `marker`. */
function blockAfter(marker: string, lang: string): string {
  const at = section.indexOf(marker);
  expect(at, marker).toBeGreaterThan(0);
  const match = new RegExp('```' + lang + '\\n([\\s\\S]*?)```').exec(section.slice(at));
  expect(match, marker).not.toBeNull();
  return match![1]!;
}

/** The command lines of a sh block (continuations joined), each with the comment lines after it. */
function commands(block: string): Array<{ line: string; comments: string[] }> {
  const out: Array<{ line: string; comments: string[] }> = [];
  const lines = block.replace(/\\\n\s*/g, '').split('\n');
  for (const line of lines) {
    if (line.startsWith('# ')) out.at(-1)?.comments.push(line.slice(2));
    else if (line.trim() !== '') out.push({ line, comments: [] });
  }
  return out;
}

const shell = (line: string) =>
  runShell(`cd ${sh(sandbox.dir)} && harmony-hpke() { ${sh(process.execPath)} ${sh(BIN)} "$@"; } && ${line.replace('http://127.0.0.1:8080', router.url)}`, sandbox.env, 30_000);

beforeAll(async () => {
  router = await startRouterProcess(sandbox.dir, ['--render-workers', '0', ], sandbox.env);
  writeFileSync(join(sandbox.dir, 'weather.json'), blockAfter('`weather.json`:', 'json'));
  writeFileSync(join(sandbox.dir, 'weather.sh'), blockAfter('`weather.sh`:', 'sh'));
});

afterAll(async () => {
  await router?.stop();
  sandbox.cleanup();
});

describe('README tools section', () => {
  it('the tool call examples print what their comments say (exit 13)', async () => {
    const [plain, json] = commands(blockAfter('`--json` a `tool_call` event comes before `done`:', 'sh'));
    const first = await shell(`${plain!.line} 2>stderr.txt; echo "exit $?"`);
    expect(first.output).toBe('exit 13\n');
    const stderr = readFileSync(join(sandbox.dir, 'stderr.txt'), 'utf8');
    expect(plain!.comments[0]).toMatch(/^stderr: (.*?)\s+\(exit 13\)$/);
    expect(stderr).toContain(`${/^stderr: (.*?)\s+\(exit 13\)$/.exec(plain!.comments[0]!)![1]}\n`);
    const second = await shell(json!.line);
    expect(second.output).toBe(`${json!.comments[0]}\n`);
  });

  it('--tool-exec and smoke run as shown', async () => {
    const lines = commands(/```sh\n([\s\S]*?)```/.exec(section.slice(section.indexOf("```sh\nchmod +x weather.sh")))![1]!);
    const [chmod, ask, smoke] = lines;
    expect(chmod!.line).toBe('chmod +x weather.sh');
    const asked = await shell(`${chmod!.line} && ${ask!.line}`);
    expect(asked.code, asked.stderr).toBe(0);
    expect(asked.output).toBe(`${ask!.comments[0]}\n`);
    const saved = JSON.parse(readFileSync(join(sandbox.dir, 'chat.json'), 'utf8')) as { messages: Array<{ role: string }> };
    expect(saved.messages.map((message) => message.role)).toEqual(['developer', 'user', 'assistant', 'assistant', 'tool', 'assistant', 'assistant']);
    const smoked = await shell(smoke!.line);
    expect(smoked.code, smoked.stderr).toBe(0);
    expect(smoked.output).toMatch(/^ok {3}Call get_weather location=Paris .*finish=tool_call$/m);
  });
});
