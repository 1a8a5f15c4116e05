/** `harmony-hpke completion bash|zsh|fish`: completion scripts generated from the program itself. */
import type { Command } from 'commander';
import type { CliContext } from '../cli/context.js';
import { ExitCode } from '../cli/exit-codes.js';
import { UsageError } from '../core/errors.js';

interface OptionSpec {
  readonly flags: string[];
  /** The option takes a value (the next word). */
  readonly takesValue: boolean;
  /** Its choices, when commander knows them. */
  readonly choices: readonly string[];
}

interface Spec {
  readonly path: string[];
  readonly description: string;
  readonly options: OptionSpec[];
  readonly subcommands: string[];
  /** Words the first positional argument may be (completion's shells, help's topics). */
  readonly positional: string[];
}

const SHELLS = ['bash', 'zsh', 'fish'];

function collect(command: Command, path: string[] = [], root: Command = command): Spec[] {
  // A hidden option (a test-only flag) is not offered either.
  const options: OptionSpec[] = command.options.filter((option) => !option.hidden).map((option) => ({
    flags: [option.long, option.short].filter((flag): flag is string => !!flag),
    takesValue: option.required || option.optional,
    // --show parses a comma list itself; its words are still worth offering.
    choices: option.argChoices ?? (option.long === '--show' ? ['analysis', 'commentary', 'final'] : []),
  }));
  options.push({ flags: ['--help'], takesValue: false, choices: [] });
  const name = path.join(' ');
  const positional =
    name === 'completion' ? SHELLS : name === 'help' ? [...root.commands.map((sub) => sub.name()).filter((sub) => sub !== 'help'), 'exit-codes'] : [];
  const own: Spec = { path, description: command.description(), options, subcommands: command.commands.map((sub) => sub.name()), positional };
  return [own, ...command.commands.flatMap((sub) => collect(sub, [...path, sub.name()], root))];
}

/** A word for a bash `case` pattern, quoted. */
function q(word: string): string {
  return `'${word.replace(/'/g, "'\\''")}'`;
}

function bash(specs: Spec[]): string {
  const globals = specs.find((spec) => spec.path.length === 0)?.options.filter((option) => !option.flags.includes('--help')) ?? [];
  const valueCases: string[] = [];
  const takesPatterns: string[] = [];
  const subPatterns: string[] = [];
  const wordCases: string[] = [];
  for (const spec of specs) {
    const path = spec.path.join(' ');
    const own = spec.path.length === 0 ? spec.options : [...spec.options, ...globals];
    for (const option of spec.options) {
      if (!option.takesValue) continue;
      for (const flag of option.flags) {
        // Global options may be given after the command too.
        const paths = spec.path.length === 0 ? ['*'] : [q(path)];
        for (const at of paths) {
          takesPatterns.push(`${at}'|'${q(flag)}`);
          if (option.choices.length > 0) valueCases.push(`    ${at}'|'${q(flag)}) echo ${q(option.choices.join(' '))} ;;`);
        }
      }
    }
    for (const sub of spec.subcommands) subPatterns.push(`${q(path)}'|'${q(sub)}`);
    const optionWords = own.flatMap((option) => option.flags).join(' ');
    const positional = [...spec.subcommands, ...spec.positional].join(' ');
    wordCases.push(`    ${q(path)}) options=${q(optionWords)}; words=${q(positional)} ;;`);
  }
  return `# bash completion for harmony-hpke; add to ~/.bashrc: source <(harmony-hpke completion bash)
_harmony_hpke_takes_value() {
  case "$1|$2" in
    ${takesPatterns.join('|')}) return 0 ;;
  esac
  return 1
}
_harmony_hpke_is_subcommand() {
  case "$1|$2" in
    ${subPatterns.join('|')}) return 0 ;;
  esac
  return 1
}
_harmony_hpke_values() {
  case "$1|$2" in
${valueCases.join('\n')}
  esac
}
_harmony_hpke() {
  # zsh (bashcompinit) hands over COMP_WORDS 1-indexed; bash's 0-indexed view makes COMP_CWORD right.
  [[ -n "\${ZSH_VERSION-}" ]] && setopt localoptions ksharrays
  local cur word path="" i skip=0 options="" words="" values=""
  cur="\${COMP_WORDS[COMP_CWORD]}"
  for ((i = 1; i < COMP_CWORD; i++)); do
    word="\${COMP_WORDS[i]}"
    if [[ $skip == 1 ]]; then skip=0; continue; fi
    case "$word" in
      --*=*) ;;
      -*) _harmony_hpke_takes_value "$path" "$word" && skip=1 ;;
      *) _harmony_hpke_is_subcommand "$path" "$word" && path="\${path:+$path }$word" ;;
    esac
  done
  if [[ $skip == 1 ]]; then
    # The word is an option's value: its choices, else a file name.
    values="$(_harmony_hpke_values "$path" "\${COMP_WORDS[COMP_CWORD-1]}")"
    if [[ -n "$values" ]]; then COMPREPLY=($(compgen -W "$values" -- "$cur")); else COMPREPLY=($(compgen -f -- "$cur")); fi
    return 0
  fi
  case "$path" in
${wordCases.join('\n')}
  esac
  if [[ "$cur" == -* ]]; then
    COMPREPLY=($(compgen -W "$options" -- "$cur"))
  else
    COMPREPLY=($(compgen -W "$words" -- "$cur"))
    [[ \${#COMPREPLY[@]} -eq 0 ]] && COMPREPLY=($(compgen -f -- "$cur"))
  fi
  return 0
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
    for (const word of spec.positional) lines.push(`complete -c harmony-hpke -n '${condition}' -f -a '${word}'`);
    for (const option of spec.options) {
      const value = option.takesValue ? (option.choices.length > 0 ? ` -x -a '${option.choices.join(' ')}'` : ' -r') : '';
      const names = option.flags.map((flag) => (flag.startsWith('--') ? `-l '${flag.slice(2)}'` : `-s '${flag.slice(1)}'`)).join(' ');
      lines.push(`complete -c harmony-hpke -n '${condition}' ${names}${value}`);
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
