import type { FileErrorPrefix } from '../core/error-codes.js';
import { UsageError } from '../core/errors.js';

/**
 * Why a named file cannot be read, as the usage error (exit 2) it is: `<PREFIX>_NOT_FOUND` when it
 * does not exist, else `<PREFIX>_UNREADABLE` with the system's code (never the file's content).
 */
export function fileReadError(error: unknown, what: string, path: string, codePrefix: FileErrorPrefix): UsageError {
  const code = (error as { code?: unknown } | undefined)?.code;
  const shown = typeof code === 'string' ? code : 'error';
  return code === 'ENOENT'
    ? new UsageError(`${codePrefix}_NOT_FOUND`, `${what} not found: ${path}`, { cause: error })
    : new UsageError(`${codePrefix}_UNREADABLE`, `cannot read ${what} ${path}: ${shown}`, { cause: error });
}
