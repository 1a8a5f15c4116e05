/** `smoke`: its flags; the handler (smoke.ts) loads on use. */
import type { Command } from 'commander';
import type { CliContext } from '../cli/context.js';
import { collect, positiveInt, routerFlags, timeoutFlags } from '../cli/flags.js';
import type { SmokeOptions } from './smoke.js';

export function smokeCommand(program: Command, ctx: CliContext): Command {
  const command = program.command('smoke').description('end-to-end check of a deployed router for CI (exit code on failure)');
  routerFlags(command, {
    router: 'router base URL',
    keys: "the router's key config file",
    keyPin: "pin the router's public key: sha256:<hex>",
    apiToken: 'API token, sent inside the sealed request (prefer env HARMONY_HPKE_API_TOKEN)',
  })
    .option('--prompt <text>', 'canary prompt (repeatable)', collect)
    .option('--expect <regex>', 'regular expression the final answer must match')
    .option('--tools <file>', 'function tools for the canary prompts (repeatable; see ask --tools)', collect)
    .option('--expect-tool-call <name>', 'pass only when the answer is a call to this tool (functions.NAME) with JSON arguments')
    .option('--expect-args <regex>', "with --expect-tool-call: regular expression the call's arguments (compact JSON) must match")
    .option('--max-tokens <n>', 'maximum completion tokens', positiveInt)
    .option('--junit <file>', 'write a JUnit XML report')
    .option('--json', 'one NDJSON result per prompt');
  return timeoutFlags(command).action(async (_options: unknown, self: Command) => {
    const { run } = await import('./smoke.js');
    ctx.exitCode = await run(ctx, self.optsWithGlobals<SmokeOptions>());
  });
}
