/**
 * Terminal output: stdout carries data, stderr carries progress and diagnostics.
 * Colour is decided per stream (TTY, NO_COLOR, FORCE_COLOR); spinners only on an interactive stderr.
 */
import { stripVTControlCharacters } from 'node:util';
import { Chalk, type ChalkInstance, type ColorSupportLevel } from 'chalk';
import { oneLineText, safeJson, terminalText } from './safe-text.js';
import type { Env } from '../node/env.js';

export type { Env };

export interface OutputStream {
  write(chunk: string | Uint8Array): boolean;
  readonly isTTY?: boolean | undefined;
}


/**
 * FORCE_COLOR wins over NO_COLOR (as in Node itself); NO_COLOR with any non-empty value disables
 * colour; otherwise colour only on a TTY that is not `dumb`.
 */
export function colorLevel(stream: OutputStream, env: Env): ColorSupportLevel {
  const force = env['FORCE_COLOR'];
  if (force !== undefined) {
    if (force === '0' || force === 'false') return 0;
    if (force === '2') return 2;
    if (force === '3') return 3;
    return 1;
  }
  if (env['NO_COLOR']) return 0;
  if (!stream.isTTY || env['TERM'] === 'dumb') return 0;
  const colorterm = env['COLORTERM'];
  if (colorterm === 'truecolor' || colorterm === '24bit') return 3;
  if (env['TERM']?.includes('256')) return 2;
  return 1;
}

/** True when running under a CI system: no spinners there, whatever the streams say. */
export function isCi(env: Env): boolean {
  const ci = env['CI'];
  return (ci !== undefined && ci !== '' && ci !== '0' && ci !== 'false') || env['GITHUB_ACTIONS'] === 'true';
}

export interface Spinner {
  update(text: string): void;
  succeed(text?: string): void;
  fail(text?: string): void;
  stop(): void;
}

const SILENT_SPINNER: Spinner = {
  update() {},
  succeed() {},
  fail() {},
  stop() {},
};

export interface TerminalOptions {
  readonly stdout: OutputStream;
  readonly stderr: OutputStream & { readonly columns?: number };
  readonly env: Env;
  readonly quiet?: boolean;
  readonly verbose?: boolean;
  readonly debug?: boolean;
  readonly json?: boolean;
}

/**
 * Whether the last text written to a stream left it in the middle of a line; shared by every
 * Terminal writing to that stream (main() prints errors through a Terminal of its own).
 */
const midLine = new WeakMap<OutputStream, boolean>();

function noteWrite(stream: OutputStream, text: string): void {
  const visible = stripVTControlCharacters(text);
  if (visible.length > 0) midLine.set(stream, !visible.endsWith('\n'));
}

/** The global flags a command's Terminal honours. */
export interface TerminalFlags {
  readonly quiet?: boolean | undefined;
  readonly verbose?: boolean | undefined;
  readonly debug?: boolean | undefined;
  readonly json?: boolean | undefined;
}

/** A command's Terminal: its streams and environment, and the flags it was given. */
export function terminalFor(io: Pick<TerminalOptions, 'stdout' | 'stderr' | 'env'>, flags: TerminalFlags = {}): Terminal {
  return new Terminal({
    stdout: io.stdout,
    stderr: io.stderr,
    env: io.env,
    quiet: flags.quiet ?? false,
    verbose: flags.verbose ?? false,
    debug: flags.debug ?? false,
    json: flags.json ?? false,
  });
}

export class Terminal {
  readonly out: ChalkInstance;
  readonly err: ChalkInstance;
  readonly quiet: boolean;
  readonly verbose: boolean;
  readonly debugEnabled: boolean;
  readonly json: boolean;
  private readonly options: TerminalOptions;
  private activeSpinner: { stop(): void; clear(): void } | undefined;

  constructor(options: TerminalOptions) {
    this.options = options;
    this.out = new Chalk({ level: colorLevel(options.stdout, options.env) });
    this.err = new Chalk({ level: colorLevel(options.stderr, options.env) });
    this.quiet = options.quiet ?? false;
    this.verbose = options.verbose ?? false;
    this.debugEnabled = options.debug ?? false;
    this.json = options.json ?? false;
  }

  get stdout(): OutputStream {
    return this.options.stdout;
  }

  get stderr(): OutputStream {
    return this.options.stderr;
  }

  get stderrIsTTY(): boolean {
    return this.options.stderr.isTTY === true;
  }

  /** Data for stdout, unchanged (returns false when the stream wants the caller to wait for 'drain'). */
  writeOut(text: string): boolean {
    noteWrite(this.options.stdout, text);
    return this.options.stdout.write(text);
  }

  writeErr(text: string): boolean {
    this.clearSpinner();
    noteWrite(this.options.stderr, text);
    return this.options.stderr.write(text);
  }

  /** Untrusted text for stdout: escaped when stdout is a terminal, the bytes unchanged otherwise. */
  outText(text: string): string {
    return this.options.stdout.isTTY === true ? terminalText(text) : text;
  }

  /** Untrusted text for stderr: escaped when stderr is a terminal, the bytes unchanged otherwise. */
  errText(text: string): string {
    return this.options.stderr.isTTY === true ? terminalText(text) : text;
  }

  /** Resolves once neither stream holds more than its high-water mark (back-pressure). */
  async drained(): Promise<void> {
    for (const stream of [this.options.stdout, this.options.stderr] as Array<OutputStream & Partial<NodeJS.WritableStream>>) {
      const writable = stream as { writableNeedDrain?: boolean; once?: (event: string, listener: () => void) => unknown; destroyed?: boolean };
      if (writable.writableNeedDrain === true && typeof writable.once === 'function' && writable.destroyed !== true) {
        await new Promise<void>((resolve) => {
          const done = () => {
            (stream as NodeJS.WritableStream).off?.('drain', done);
            (stream as NodeJS.WritableStream).off?.('close', done);
            (stream as NodeJS.WritableStream).off?.('error', done);
            resolve();
          };
          writable.once!('drain', done);
          writable.once!('close', done);
          writable.once!('error', done);
        });
      }
    }
  }

  /**
   * A diagnostic line starts on a line of its own: after a partial analysis on stderr, or after a
   * partial answer on stdout when both streams are the same terminal. (stdout itself is data and
   * gets no newline it did not have.)
   */
  private writeLine(line: string): void {
    const { stdout, stderr } = this.options;
    const broken = midLine.get(stderr) === true || (stderr.isTTY === true && stdout.isTTY === true && midLine.get(stdout) === true);
    if (broken) midLine.set(stdout, false);
    this.writeErr(`${broken ? '\n' : ''}${line}\n`);
  }

  /** One NDJSON record on stdout. */
  jsonLine(record: unknown): void {
    this.options.stdout.write(`${safeJson(record)}\n`);
  }

  /** A progress/diagnostic line on stderr; suppressed by --quiet. */
  info(message: string): void {
    if (this.quiet) return;
    this.writeLine(`${this.err.dim('harmony-hpke:')} ${oneLineText(message)}`);
  }

  warn(message: string): void {
    this.writeLine(`harmony-hpke: ${this.err.yellow('warning:')} ${oneLineText(message)}`);
  }

  /** -v output (timings and the like). */
  detail(message: string): void {
    if (!this.verbose || this.quiet) return;
    this.writeLine(this.err.dim(`harmony-hpke: ${oneLineText(message)}`));
  }

  /** --debug traces: sizes and ids only, never plaintext or key material. */
  debug(message: string): void {
    if (!this.debugEnabled) return;
    this.writeLine(this.err.dim(`harmony-hpke: debug: ${oneLineText(message)}`));
  }

  error(message: string, code: string): void {
    this.writeLine(`harmony-hpke: ${this.err.red('error:')} ${oneLineText(message)} (${oneLineText(code)})`);
  }

  /**
   * A terminal that reports zero columns (a pseudo-terminal nobody sized, as under `script` or some
   * CI runners) cannot host a spinner: ora divides by the width and would redraw forever.
   */
  get spinnersAllowed(): boolean {
    return (
      this.stderrIsTTY &&
      (this.options.stderr.columns ?? 80) > 0 &&
      !this.json &&
      !this.quiet &&
      !isCi(this.options.env) &&
      this.options.env['TERM'] !== 'dumb'
    );
  }

  /** An ora spinner on stderr when interactive; a silent stand-in otherwise (ora is loaded lazily). */
  async spinner(text: string): Promise<Spinner> {
    if (!this.spinnersAllowed) return SILENT_SPINNER;
    const { default: ora } = await import('ora');
    // ora colours its frame with chalk's global instance, which follows stdout and ignores NO_COLOR:
    // colour it only when stderr's own colour level allows.
    const spinner = ora({
      text,
      stream: this.options.stderr as NodeJS.WritableStream,
      discardStdin: false,
      color: this.err.level > 0 ? 'cyan' : false,
    }).start();
    this.activeSpinner = spinner;
    const done = () => {
      if (this.activeSpinner === spinner) this.activeSpinner = undefined;
    };
    return {
      update: (next) => {
        spinner.text = next;
      },
      succeed: (next) => {
        done();
        spinner.succeed(next);
      },
      fail: (next) => {
        done();
        spinner.fail(next);
      },
      stop: () => {
        done();
        // A second stop() would move the cursor back to column 1 of whatever was printed since.
        if (spinner.isSpinning) spinner.stop();
      },
    };
  }

  /** Stops any spinner so that a line written to stderr is not overwritten. */
  clearSpinner(): void {
    if (this.activeSpinner) {
      this.activeSpinner.stop();
      this.activeSpinner = undefined;
    }
  }
}

export { pythonRepr } from './safe-text.js';
