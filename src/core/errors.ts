/**
 * Typed errors shared by the library and the CLI.
 *
 * Every error carries a stable `code` (SCREAMING_SNAKE, part of the public interface: scripts and
 * tests match on it) and a `family` that the CLI maps to an exit code (src/cli/exit-codes.ts).
 * Messages say which check failed, never what a plaintext, key or secret was.
 */

export type ErrorFamily =
  | 'internal'
  | 'usage'
  | 'network'
  | 'key'
  | 'refused'
  | 'integrity'
  | 'truncated'
  | 'router'
  | 'harmony'
  | 'check'
  | 'incomplete'
  | 'output'
  | 'auth';

export class HarmonyHpkeError extends Error {
  readonly code: string;
  readonly family: ErrorFamily;

  constructor(family: ErrorFamily, code: string, message: string, options?: { cause?: unknown }) {
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
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super('usage', code, message, options);
  }
}

/** Connection failures and timeouts (exit 3). */
export class NetworkError extends HarmonyHpkeError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super('network', code, message, options);
  }
}

/** Key configs, key files, pins and unsupported suites (exit 4). */
export class KeyError extends HarmonyHpkeError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super('key', code, message, options);
  }
}

/** The router answered with an HTTP error before the stream started (exit 5). */
export class RouterRefusedError extends HarmonyHpkeError {
  readonly status: number;
  readonly problemType: string | undefined;

  constructor(
    code: string,
    message: string,
    details: { status: number; problemType?: string | undefined },
    options?: { cause?: unknown },
  ) {
    super('refused', code, message, options);
    this.status = details.status;
    this.problemType = details.problemType;
  }
}

/** The router wants an API token, or refused the one given (HTTP 401; exit 14). */
export class AuthError extends HarmonyHpkeError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super('auth', code, message, options);
  }
}

/** Decryption failures, tampering, reordering, replays (exit 6). */
export class IntegrityError extends HarmonyHpkeError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super('integrity', code, message, options);
  }
}

/** The stream ended without an authenticated final chunk (exit 7). */
export class TruncatedError extends HarmonyHpkeError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super('truncated', code, message, options);
  }
}

/** The router's authenticated `error` final chunk (exit 8). */
export class RouterError extends HarmonyHpkeError {
  readonly routerCode: string;

  constructor(routerCode: string, message: string) {
    super('router', 'ROUTER_ERROR', message);
    this.routerCode = routerCode;
  }
}

/** Malformed Harmony in strict mode (exit 9). */
export class HarmonyParseError extends HarmonyHpkeError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super('harmony', code, message, options);
  }
}

/** A smoke check failed on an otherwise valid answer, e.g. it did not match --expect (exit 10). */
export class CheckFailedError extends HarmonyHpkeError {
  constructor(code: string, message: string) {
    super('check', code, message);
  }
}

/** A verified answer that did not finish: the router cancelled it (exit 11). */
export class IncompleteAnswerError extends HarmonyHpkeError {
  readonly finish: string;

  constructor(code: string, message: string, finish: string) {
    super('incomplete', code, message);
    this.finish = finish;
  }
}

/** stdout could not be written (a full disk, /dev/full, a closed descriptor other than a pipe) (exit 12). */
export class OutputError extends HarmonyHpkeError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super('output', code, message, options);
  }
}

/** Anything that is a bug of ours rather than the input's (exit 1). */
export class InternalError extends HarmonyHpkeError {
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super('internal', code, message, options);
  }
}

export function isHarmonyHpkeError(value: unknown): value is HarmonyHpkeError {
  return value instanceof HarmonyHpkeError;
}
