/** `help [topic...]` and `completion <shell>`: they read the program itself; handlers load on use. */
import type { Command } from 'commander';
import type { CliContext } from '../cli/context.js';

export function completionCommand(program: Command, ctx: CliContext): Command {
  return program
    .command('completion')
    .description('print a shell completion script')
    .argument('<shell>', 'bash, zsh or fish')
    .action(async (shell: string) => {
      const { run } = await import('./completion.js');
      ctx.exitCode = await run(ctx, shell, program);
    });
}

export function helpCommand(program: Command, ctx: CliContext): Command {
  return program
    .command('help')
    .description('show help for a command, or a topic: exit-codes')
    .argument('[topic...]', "a command name ('keys pin' for a subcommand) or exit-codes")
    .action(async (topic: string[]) => {
      const { run } = await import('./help.js');
      ctx.exitCode = await run(ctx, topic.length > 0 ? topic.join(' ') : undefined, program);
    });
}
