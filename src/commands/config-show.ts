/**
 * `harmony-hpke config show`: each resolved setting and where it came from (a flag, the
 * environment, the config file and profile, or the default), like `gh config list`. The pin is a
 * public fingerprint; nothing secret is ever in these settings.
 */
import type { CliContext } from '../cli/context.js';
import { ExitCode } from '../cli/exit-codes.js';
import { terminalFor } from '../cli/output.js';
import { resolveRouterSettings, type GlobalFlags, type RouterFlags } from '../client/config.js';
import { configFile, pinsFile, sessionsDir } from '../node/paths.js';

export interface ConfigShowOptions extends RouterFlags, GlobalFlags {
  readonly json?: boolean;
  readonly quiet?: boolean;
}

export async function run(ctx: CliContext, options: ConfigShowOptions): Promise<number> {
  const terminal = terminalFor(ctx, options);
  const settings = await resolveRouterSettings(options, ctx.env);
  const rows: Array<[string, unknown, string | undefined]> = [
    ['profile', settings.profile, settings.sources.profile],
    ['router', settings.router, settings.sources.router ?? 'none: ask uses the embedded local router'],
    ['keys', settings.keysFile, settings.sources.keys],
    ['key_pin', settings.keyPin, settings.sources.key_pin],
    ['model', settings.model, settings.sources.model],
    ['max_tokens', settings.maxTokens, settings.sources.max_tokens],
    ['reasoning_effort', settings.reasoningEffort, settings.sources.reasoning_effort],
    ['config_file', options.config ?? ctx.env['HARMONY_HPKE_CONFIG'] ?? configFile(ctx.env), options.config ? '--config' : ctx.env['HARMONY_HPKE_CONFIG'] ? 'HARMONY_HPKE_CONFIG' : 'default'],
    ['pin_store', pinsFile(ctx.env), 'default'],
    ['sessions_dir', sessionsDir(ctx.env), ctx.env['HARMONY_HPKE_STATE_DIR'] ? 'HARMONY_HPKE_STATE_DIR' : 'default'],
  ];
  if (options.json) {
    terminal.jsonLine(Object.fromEntries(rows.map(([name, value, source]) => [name, { value: value ?? null, source: source ?? null }])));
    return ExitCode.Ok;
  }
  for (const [name, value, source] of rows) {
    terminal.writeOut(`${name.padEnd(17)}${terminal.outText(value === undefined ? '(unset)' : String(value))}  ${terminal.out.dim(`(${terminal.outText(source ?? 'unset')})`)}\n`);
  }
  return ExitCode.Ok;
}
