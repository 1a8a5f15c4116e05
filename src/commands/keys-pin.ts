/** `harmony-hpke keys pin`: record a router's key fingerprint (fetched, or given), list or remove pins. */
import { parseKeyPin } from '../hpke/index.js';
import type { CliContext } from '../cli/context.js';
import { ExitCode } from '../cli/exit-codes.js';
import { terminalFor } from '../cli/output.js';
import { resolveRouterSettings } from '../client/config.js';
import { fetchKeyConfigs, chooseKey, pinStoreKey, readPinStore, updatePinStore } from '../client/keys.js';
import { UsageError } from '../core/errors.js';
import { timeoutsFrom, type GlobalOptions, type TimeoutOptions } from '../cli/flags.js';

export interface KeysPinOptions extends GlobalOptions, TimeoutOptions {
  readonly router?: string;
  readonly fingerprint?: string;
  readonly remove?: boolean;
  readonly list?: boolean;
  readonly json?: boolean;
}

export async function run(ctx: CliContext, options: KeysPinOptions): Promise<number> {
  const terminal = terminalFor(ctx, options);
  if (options.list) {
    const pins = await readPinStore(ctx.env);
    if (options.json) terminal.jsonLine({ pins });
    else for (const [router, pin] of Object.entries(pins)) terminal.writeOut(`${router}  ${pin}\n`);
    return ExitCode.Ok;
  }
  const settings = await resolveRouterSettings(options, ctx.env);
  if (settings.router === undefined) throw new UsageError('NO_ROUTER', 'no router: pass --router URL');
  const storeKey = pinStoreKey(settings.router);
  if (options.remove) {
    const existed = await updatePinStore(ctx.env, (pins) => {
      const had = storeKey in pins;
      delete pins[storeKey];
      return had;
    });
    if (options.json) terminal.jsonLine({ router: storeKey, removed: existed });
    else terminal.writeOut(existed ? `removed the pin for ${storeKey}\n` : `no pin for ${storeKey}\n`);
    return ExitCode.Ok;
  }
  let pin: string;
  if (options.fingerprint !== undefined) {
    pin = parseKeyPin(options.fingerprint);
  } else {
    const source = await fetchKeyConfigs(settings.router, {
      timeouts: timeoutsFrom(options, 30_000),
      signal: ctx.signal,
    });
    pin = chooseKey(source.configs, undefined).fingerprint;
  }
  const previous = await updatePinStore(ctx.env, (pins) => {
    const before = pins[storeKey];
    pins[storeKey] = pin;
    return before;
  });
  if (options.json) terminal.jsonLine({ router: storeKey, pin, previous: previous ?? null });
  else terminal.writeOut(`pinned ${storeKey} to ${pin}${previous && previous !== pin ? ` (was ${previous})` : ''}\n`);
  return ExitCode.Ok;
}
