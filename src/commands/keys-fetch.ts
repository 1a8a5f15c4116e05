/** `harmony-hpke keys fetch --router URL [--out FILE]`: the router's key config, checked against a pin. */
import type { CliContext } from '../cli/context.js';
import { ExitCode } from '../cli/exit-codes.js';
import { describeKeyConfig } from '../cli/key-description.js';
import { terminalFor } from '../cli/output.js';
import { resolveRouterSettings } from '../client/config.js';
import { writeUserFile } from '../node/fs-atomic.js';
import { resolveRouterKey } from '../client/keys.js';
import { UsageError } from '../core/errors.js';
import { timeoutsFrom, type GlobalOptions, type TimeoutOptions } from '../cli/flags.js';

export interface KeysFetchOptions extends GlobalOptions, TimeoutOptions {
  readonly router?: string;
  readonly keyPin?: string;
  readonly out?: string;
  readonly json?: boolean;
}

export async function run(ctx: CliContext, options: KeysFetchOptions): Promise<number> {
  const terminal = terminalFor(ctx, options);
  const settings = await resolveRouterSettings(options, ctx.env);
  if (settings.router === undefined) throw new UsageError('NO_ROUTER', 'no router: pass --router URL');
  const selected = await resolveRouterKey({
    router: settings.router,
    keyPin: settings.keyPin,
    keyPinSource: settings.keyPinSource,
    env: ctx.env,
    signal: ctx.signal,
    timeouts: timeoutsFrom(options, 30_000),
  });
  if (options.out) await writeUserFile(options.out, selected.source.bytes, 'key config');
  const keys = selected.source.configs.map((config) => {
    const { key_id, fingerprint, suites } = describeKeyConfig(config);
    return { key_id, fingerprint, suites };
  });
  if (options.json) {
    terminal.jsonLine({ router: settings.router, file: options.out ?? null, selected_key_id: selected.config.keyId, keys });
  } else {
    for (const key of keys) terminal.writeOut(`key id ${key.key_id}  ${key.fingerprint}\n`);
    if (options.out) terminal.info(`saved the key config to ${options.out}`);
  }
  return ExitCode.Ok;
}
