/** `harmony-hpke help [command|exit-codes]`. */
import type { Command } from 'commander';
import type { CliContext } from '../cli/context.js';
import { EXIT_CODE_TABLE, ExitCode } from '../cli/exit-codes.js';
import { UsageError } from '../core/errors.js';

export async function run(ctx: CliContext, topic: string | undefined, program: Command): Promise<number> {
  if (topic === undefined) {
    ctx.stdout.write(program.helpInformation());
    return ExitCode.Ok;
  }
  if (topic === 'exit-codes') {
    ctx.stdout.write('harmony-hpke exit codes:\n');
    for (const { code, meaning } of EXIT_CODE_TABLE) ctx.stdout.write(`  ${String(code).padStart(3)}  ${meaning}\n`);
    return ExitCode.Ok;
  }
  const path = topic.split(/\s+/);
  let command: Command | undefined = program;
  for (const name of path) command = command?.commands.find((sub) => sub.name() === name);
  if (!command) throw new UsageError('USAGE_UNKNOWN_TOPIC', `no command or topic '${topic}' (try: harmony-hpke help exit-codes)`);
  ctx.stdout.write(command.helpInformation());
  return ExitCode.Ok;
}
