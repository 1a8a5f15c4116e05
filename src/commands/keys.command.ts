/** `keys generate|show|fetch|pin|api-token create|help`: their flags; each handler loads on use. */
import type { Command } from 'commander';
import type { CliContext } from '../cli/context.js';
import { nonNegativeInt, positiveInt, timeoutFlags } from '../cli/flags.js';
import type { ApiTokenCreateOptions } from './keys-api-token.js';
import type { KeysFetchOptions } from './keys-fetch.js';
import type { KeysGenerateOptions } from './keys-generate.js';
import type { KeysPinOptions } from './keys-pin.js';
import type { KeysShowOptions } from './keys-show.js';

export function keysCommand(program: Command, ctx: CliContext): Command {
  const keys = program.command('keys').description('router keys and pinned router fingerprints').helpCommand(false);
  keys
    .command('generate')
    .description('generate a router key (private key file, mode 0600)')
    .requiredOption('--out <file>', 'where to write the key file')
    .option('--key-id <n>', 'key id (0-255)', nonNegativeInt)
    .option('--force', 'overwrite an existing file')
    .option('--json', 'machine-readable output')
    .action(async (_options: unknown, self: Command) => {
      const { run } = await import('./keys-generate.js');
      ctx.exitCode = await run(ctx, self.optsWithGlobals<KeysGenerateOptions>());
    });
  keys
    .command('show')
    .description('show a key file or key config: ids, suites, fingerprint (never the private key)')
    .argument('<file>', 'router key file or application/ohttp-keys file')
    .option('--json', 'machine-readable output')
    .option('--config-out <file>', 'write the public key config (application/ohttp-keys) to a file')
    .action(async (file: string, _options: unknown, self: Command) => {
      const { run } = await import('./keys-show.js');
      ctx.exitCode = await run(ctx, file, self.optsWithGlobals<KeysShowOptions>());
    });
  timeoutFlags(
    keys
      .command('fetch')
      .description("fetch a router's key config (application/ohttp-keys)")
      .option('--router <url>', 'router base URL')
      .option('--key-pin <pin>', 'refuse a key that does not match this pin')
      .option('--out <file>', 'write the key config to a file (default: describe it on stdout)')
      .option('--json', 'machine-readable output'),
  ).action(async (_options: unknown, self: Command) => {
    const { run } = await import('./keys-fetch.js');
    ctx.exitCode = await run(ctx, self.optsWithGlobals<KeysFetchOptions>());
  });
  timeoutFlags(
    keys
      .command('pin')
      .description("pin a router's key fingerprint (trust on first use, or a given fingerprint)")
      .option('--router <url>', 'router base URL')
      .option('--fingerprint <pin>', 'pin this fingerprint instead of fetching it')
      .option('--remove', 'remove the pin for this router')
      .option('--list', 'list pinned routers')
      .option('--json', 'machine-readable output'),
  ).action(async (_options: unknown, self: Command) => {
    const { run } = await import('./keys-pin.js');
    ctx.exitCode = await run(ctx, self.optsWithGlobals<KeysPinOptions>());
  });

  keys
    .command('help')
    .description('show help for keys or one of its subcommands')
    .argument('[command]', 'generate, show, fetch or pin')
    .action(async (name: string | undefined) => {
      const { run } = await import('./help.js');
      ctx.exitCode = await run(ctx, name === undefined ? 'keys' : `keys ${name}`, program);
    });
  const apiToken = keys.command('api-token').description("the router's client API tokens");
  apiToken
    .command('create')
    .description('make a new API token: print it once, append its hash to the token file (mode 0600)')
    .requiredOption('--name <name>', 'name for logs and metrics (letters, digits, . _ -)')
    .option('--file <file>', 'API token file (env HARMONY_HPKE_API_KEYS; default api-tokens.jsonl)')
    .option('--max-streams <n>', 'limit: concurrent streams per router process', positiveInt)
    .option('--requests-per-minute <n>', 'limit: requests per minute per router process', positiveInt)
    .option('--max-tokens <n>', 'limit: largest max_tokens per request', positiveInt)
    .option('--json', 'print {"name","token","file"}')
    .action(async (_options: unknown, self: Command) => {
      const { run } = await import('./keys-api-token.js');
      ctx.exitCode = await run(ctx, self.optsWithGlobals<ApiTokenCreateOptions>());
    });
  return keys;
}
