/** `harmony-hpke completion bash|zsh|fish`: completion scripts generated from the program itself. */
import type { Command } from 'commander';
import type { CliContext } from '../cli/context.js';
import { ExitCode } from '../cli/exit-codes.js';
import { UsageError } from '../errors.js';

interface Spec {
  readonly path: string[];
  readonly description: string;
  readonly options: string[];
  readonly subcommands: string[];
}

function collect(command: Command, path: string[] = []): Spec[] {
  const options = command.options.flatMap((option) => [option.long, option.short].filter((flag): flag is string => !!flag));
  const own: Spec = {
    path,
    description: command.description(),
    options: [...options, '--help'],
    subcommands: command.commands.map((sub) => sub.name()),
  };
  return [own, ...command.commands.flatMap((sub) => collect(sub, [...path, sub.name()]))];
}

function bash(specs: Spec[]): string {
  const cases = specs
    .map((spec) => `    "${spec.path.join(' ')}") words="${[...spec.subcommands, ...spec.options].join(' ')}" ;;`)
    .join('\n');
  return `# bash completion for harmony-hpke; add to ~/.bashrc: source <(harmony-hpke completion bash)
_harmony_hpke() {
  local cur path="" i words
  cur="\${COMP_WORDS[COMP_CWORD]}"
  for ((i = 1; i < COMP_CWORD; i++)); do
    case "\${COMP_WORDS[i]}" in -*) ;; *) path="\${path:+$path }\${COMP_WORDS[i]}" ;; esac
  done
  case "$path" in
${cases}
    *) words="" ;;
  esac
  COMPREPLY=($(compgen -W "$words" -- "$cur"))
  [[ \${#COMPREPLY[@]} -eq 0 ]] && COMPREPLY=($(compgen -f -- "$cur"))
}
complete -o filenames -F _harmony_hpke harmony-hpke
`;
}

function zsh(specs: Spec[]): string {
  return `#compdef harmony-hpke
# zsh completion for harmony-hpke; add to ~/.zshrc: source <(harmony-hpke completion zsh)
autoload -U +X bashcompinit && bashcompinit
${bash(specs).replace(/^# bash completion.*\n/, '')}`;
}

function fish(specs: Spec[]): string {
  const lines = ['# fish completion for harmony-hpke: harmony-hpke completion fish > ~/.config/fish/completions/harmony-hpke.fish'];
  for (const spec of specs) {
    const condition =
      spec.path.length === 0 ? '__fish_use_subcommand' : `__fish_seen_subcommand_from ${spec.path[spec.path.length - 1]}`;
    for (const sub of spec.subcommands) lines.push(`complete -c harmony-hpke -n '${condition}' -f -a '${sub}'`);
    for (const option of spec.options) {
      if (option.startsWith('--')) lines.push(`complete -c harmony-hpke -n '${condition}' -l '${option.slice(2)}'`);
      else lines.push(`complete -c harmony-hpke -n '${condition}' -s '${option.slice(1)}'`);
    }
  }
  return `${lines.join('\n')}\n`;
}

export async function run(ctx: CliContext, shell: string, program: Command): Promise<number> {
  const specs = collect(program);
  const script = shell === 'bash' ? bash(specs) : shell === 'zsh' ? zsh(specs) : shell === 'fish' ? fish(specs) : undefined;
  if (script === undefined) throw new UsageError('USAGE_SHELL', `unsupported shell '${shell}' (bash, zsh or fish)`);
  ctx.stdout.write(script);
  return ExitCode.Ok;
}
