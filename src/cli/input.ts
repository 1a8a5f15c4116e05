/**
 * Input rules: a prompt or file comes from stdin when it is `-`, or absent and stdin is a pipe or a
 * file. A terminal or a character device such as /dev/null is never waited on. Sockets count as
 * pipes: that is what Node's child_process, systemd and many CI runners hand a program as a pipe.
 */
import { fstatSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { UsageError } from '../core/errors.js';
import { fileReadError } from '../node/file-errors.js';
import type { CliContext } from './context.js';

export const MAX_INPUT_BYTES = 64 * 1024 * 1024;

/** True when stdin is a pipe, socket or regular file, i.e. something a caller deliberately fed in. */
export function stdinHasData(ctx: CliContext): boolean {
  const kind = stdinKind(ctx);
  return kind === 'pipe' || kind === 'file' || kind === 'socket';
}

function stdinIsPipeOrFile(ctx: CliContext): boolean {
  const kind = stdinKind(ctx);
  return kind === 'pipe' || kind === 'file';
}

/** What stdin is: the context says so for an in-memory stream, else fstat of its descriptor. */
function stdinKind(ctx: CliContext): 'pipe' | 'file' | 'socket' | 'none' {
  if (ctx.stdin.isTTY) return 'none';
  if (ctx.stdinKind !== undefined) return ctx.stdinKind;
  try {
    const info = fstatSync(ctx.stdin.fd ?? 0);
    return info.isFIFO() ? 'pipe' : info.isFile() ? 'file' : info.isSocket() ? 'socket' : 'none';
  } catch {
    return 'none';
  }
}

export async function readStdin(ctx: CliContext, limit = MAX_INPUT_BYTES): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const part of ctx.stdin as AsyncIterable<Buffer | string>) {
    const buffer = typeof part === 'string' ? Buffer.from(part) : part;
    size += buffer.byteLength;
    if (size > limit) throw new UsageError('INPUT_TOO_LARGE', `standard input is larger than ${limit} bytes`);
    parts.push(buffer);
  }
  return Buffer.concat(parts);
}

/** The prompt from the argument, or stdin per the rules above; undefined when there is none. */
export async function readPrompt(ctx: CliContext, argument: string | undefined): Promise<string | undefined> {
  if (argument !== undefined && argument !== '-') {
    // `echo text | ask "Summarise this"`: stdin first, then the prompt (as llm does). Only a pipe or
    // a file is read here, never a socket: CI runners hand down sockets that may never close.
    if (!stdinIsPipeOrFile(ctx)) return argument;
    const piped = (await readStdin(ctx, 4 * 1024 * 1024)).toString('utf8').replace(/\s+$/, '');
    return piped === '' ? argument : `${piped}\n\n${argument}`;
  }
  if (argument === '-' || stdinHasData(ctx)) {
    const text = (await readStdin(ctx, 4 * 1024 * 1024)).toString('utf8').replace(/\r?\n$/, '');
    return text;
  }
  return undefined;
}

export interface InputSource {
  readonly name: string;
  /** The bytes as a stream (files are streamed, never read whole). */
  readonly stream: AsyncIterable<Uint8Array>;
}

/** Why a named input file cannot be opened, as the usage error (exit 2) it is. */
export function inputFileError(error: unknown, what: string, path: string): UsageError {
  return fileReadError(error, what, path, 'INPUT');
}

/** A file that cannot be read (permissions, I/O) is the user's to fix: a usage error, not an internal one. */
async function* readErrorsAsUsage(stream: AsyncIterable<Uint8Array>, what: string, path: string): AsyncIterable<Uint8Array> {
  try {
    yield* stream;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    if (typeof code !== 'string') throw error;
    throw new UsageError('INPUT_UNREADABLE', `cannot read ${what} ${path}: ${code}`, { cause: error });
  }
}

/** A file argument as a byte stream, or stdin when it is `-` or absent and piped. */
export async function openInput(ctx: CliContext, argument: string | undefined, what: string): Promise<InputSource> {
  if (argument !== undefined && argument !== '-') {
    const { createReadStream } = await import('node:fs');
    const { stat } = await import('node:fs/promises');
    try {
      if ((await stat(argument)).isDirectory()) {
        throw new UsageError('INPUT_UNREADABLE', `cannot read ${what} ${argument}: it is a directory`);
      }
    } catch (error) {
      if (error instanceof UsageError) throw error;
      throw inputFileError(error, what, argument);
    }
    return { name: argument, stream: readErrorsAsUsage(createReadStream(argument) as AsyncIterable<Uint8Array>, what, argument) };
  }
  if (argument === '-' || stdinHasData(ctx)) {
    return { name: 'stdin', stream: ctx.stdin as AsyncIterable<Uint8Array> };
  }
  throw new UsageError('NO_INPUT', `no ${what}: give a file, '-', or pipe it in`);
}

export async function readInputFile(ctx: CliContext, argument: string | undefined, what: string): Promise<{ name: string; bytes: Buffer }> {
  if (argument !== undefined && argument !== '-') {
    try {
      return { name: argument, bytes: await readFile(argument) };
    } catch (error) {
      throw inputFileError(error, what, argument);
    }
  }
  if (argument === '-' || stdinHasData(ctx)) return { name: 'stdin', bytes: await readStdin(ctx) };
  throw new UsageError('NO_INPUT', `no ${what}: give a file, '-', or pipe it in`);
}
