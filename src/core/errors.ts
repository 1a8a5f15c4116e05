/**
 * Typed errors shared by the library and the CLI.
 *
 * Every error carries a stable `code` (SCREAMING_SNAKE, part of the public interface: scripts and
 * tests match on it) and a `family` that the CLI maps to an exit code (src/cli/exit-codes.ts).
 * Messages say which check failed, never what a plaintext, key or secret was.
 */

import { familyOf, type CodeOf, type ErrorCode, type ErrorFamily } from './error-codes.js';

export type { CodeOf, ErrorCode, ErrorFamily } from './error-codes.js';

export class HarmonyHpkeError extends Error {
  readonly code: ErrorCode;
  readonly family: ErrorFamily;

  /**
   * The family comes from the registry (src/core/error-codes.ts); a subclass passes its own for
   * the one code registered under two families (ANSWER_CUT_AT_LENGTH).
   */
  constructor(code: ErrorCode, message: string, options?: { cause?: unknown }, family: ErrorFamily = familyOf(code)) {
    super(message, options);
    this.family = family;
    this.code = code;
  }

  override get name(): string {
    return this.constructor.name;
  }
}

/** Bad flags, arguments or input files (exit 2). */
export class UsageError extends HarmonyHpkeError {
  declare readonly code: CodeOf<'usage'>;
  constructor(code: CodeOf<'usage'>, message: string, options?: { cause?: unknown }) {
    super(code, message, options, 'usage');
  }
}

/** Connection failures and timeouts (exit 3). */
export class NetworkError extends HarmonyHpkeError {
  declare readonly code: CodeOf<'network'>;
  constructor(code: CodeOf<'network'>, message: string, options?: { cause?: unknown }) {
    super(code, message, options, 'network');
  }
}

/** Key configs, key files, pins and unsupported suites (exit 4). */
export class KeyError extends HarmonyHpkeError {
  declare readonly code: CodeOf<'key'>;
  constructor(code: CodeOf<'key'>, message: string, options?: { cause?: unknown }) {
    super(code, message, options, 'key');
  }
}

/** The router answered with an HTTP error before the stream started (exit 5). */
export class RouterRefusedError extends HarmonyHpkeError {
  declare readonly code: CodeOf<'refused'>;
  readonly status: number;
  readonly problemType: string | undefined;

  constructor(
    code: CodeOf<'refused'>,
    message: string,
    details: { status: number; problemType?: string | undefined },
    options?: { cause?: unknown },
  ) {
    super(code, message, options, 'refused');
    this.status = details.status;
    this.problemType = details.problemType;
  }
}

/** The router wants an API token, or refused the one given (HTTP 401; exit 14). */
export class AuthError extends HarmonyHpkeError {
  declare readonly code: CodeOf<'auth'>;
  constructor(code: CodeOf<'auth'>, message: string, options?: { cause?: unknown }) {
    super(code, message, options, 'auth');
  }
}

/** Decryption failures, tampering, reordering, replays (exit 6). */
export class IntegrityError extends HarmonyHpkeError {
  declare readonly code: CodeOf<'integrity'>;
  constructor(code: CodeOf<'integrity'>, message: string, options?: { cause?: unknown }) {
    super(code, message, options, 'integrity');
  }
}

/** The stream ended without an authenticated final chunk (exit 7). */
export class TruncatedError extends HarmonyHpkeError {
  declare readonly code: CodeOf<'truncated'>;
  constructor(code: CodeOf<'truncated'>, message: string, options?: { cause?: unknown }) {
    super(code, message, options, 'truncated');
  }
}

/** The router's authenticated `error` final chunk (exit 8). */
export class RouterError extends HarmonyHpkeError {
  declare readonly code: 'ROUTER_ERROR';
  readonly routerCode: string;

  constructor(routerCode: string, message: string) {
    super('ROUTER_ERROR', message);
    this.routerCode = routerCode;
  }
}

/** Malformed Harmony in strict mode (exit 9). */
export class HarmonyParseError extends HarmonyHpkeError {
  declare readonly code: CodeOf<'harmony'>;
  constructor(code: CodeOf<'harmony'>, message: string, options?: { cause?: unknown }) {
    super(code, message, options, 'harmony');
  }
}

/** A smoke check failed on an otherwise valid answer, e.g. it did not match --expect (exit 10). */
export class CheckFailedError extends HarmonyHpkeError {
  declare readonly code: CodeOf<'check'>;
  constructor(code: CodeOf<'check'>, message: string) {
    super(code, message, undefined, 'check');
  }
}

/** A verified answer that did not finish: the router cancelled it (exit 11). */
export class IncompleteAnswerError extends HarmonyHpkeError {
  declare readonly code: CodeOf<'incomplete'>;
  readonly finish: string;

  constructor(code: CodeOf<'incomplete'>, message: string, finish: string) {
    super(code, message, undefined, 'incomplete');
    this.finish = finish;
  }
}

/** stdout could not be written (a full disk, /dev/full, a closed descriptor other than a pipe) (exit 12). */
export class OutputError extends HarmonyHpkeError {
  declare readonly code: CodeOf<'output'>;
  constructor(code: CodeOf<'output'>, message: string, options?: { cause?: unknown }) {
    super(code, message, options, 'output');
  }
}

/** Anything that is a bug of ours rather than the input's (exit 1). */
export class InternalError extends HarmonyHpkeError {
  declare readonly code: CodeOf<'internal'>;
  constructor(code: CodeOf<'internal'>, message: string, options?: { cause?: unknown }) {
    super(code, message, options, 'internal');
  }
}

export function isHarmonyHpkeError(value: unknown): value is HarmonyHpkeError {
  return value instanceof HarmonyHpkeError;
}
