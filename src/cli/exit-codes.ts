import type { ErrorFamily } from '../core/errors.js';

/** Exit codes: stable, documented in the README and by `harmony-hpke help exit-codes`. */
export const ExitCode = {
  Ok: 0,
  Internal: 1,
  Usage: 2,
  Network: 3,
  Key: 4,
  Refused: 5,
  Integrity: 6,
  Truncated: 7,
  RouterError: 8,
  HarmonyParse: 9,
  CheckFailed: 10,
  Incomplete: 11,
  Output: 12,
  ToolCall: 13,
  Unauthorized: 14,
  Interrupted: 130,
  Terminated: 143,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

const FAMILY_EXIT: Record<ErrorFamily, ExitCodeValue> = {
  internal: ExitCode.Internal,
  usage: ExitCode.Usage,
  network: ExitCode.Network,
  key: ExitCode.Key,
  refused: ExitCode.Refused,
  integrity: ExitCode.Integrity,
  truncated: ExitCode.Truncated,
  router: ExitCode.RouterError,
  harmony: ExitCode.HarmonyParse,
  check: ExitCode.CheckFailed,
  incomplete: ExitCode.Incomplete,
  output: ExitCode.Output,
  auth: ExitCode.Unauthorized,
};

export function exitCodeForFamily(family: ErrorFamily): ExitCodeValue {
  return FAMILY_EXIT[family];
}

export const EXIT_CODE_TABLE: ReadonlyArray<{ code: ExitCodeValue; meaning: string }> = [
  { code: ExitCode.Ok, meaning: 'success' },
  { code: ExitCode.Internal, meaning: 'internal error (a bug: please report it with --debug output)' },
  { code: ExitCode.Usage, meaning: 'usage: bad flags, arguments or input files' },
  { code: ExitCode.Network, meaning: 'network failure or timeout' },
  { code: ExitCode.Key, meaning: 'key or pin problem (bad key config, key file, fingerprint mismatch, no supported suite)' },
  { code: ExitCode.Refused, meaning: 'the router refused the request (HTTP error before the stream)' },
  { code: ExitCode.Integrity, meaning: 'integrity: decryption failure, tampering, reordering or replay' },
  { code: ExitCode.Truncated, meaning: 'truncated stream: no authenticated final chunk' },
  { code: ExitCode.RouterError, meaning: "the router's authenticated error (inside the encrypted stream)" },
  { code: ExitCode.HarmonyParse, meaning: 'Harmony parse error in strict mode' },
  { code: ExitCode.CheckFailed, meaning: 'smoke: a check failed on a valid answer (not --expect, or not complete: finish length)' },
  { code: ExitCode.Incomplete, meaning: 'the answer did not finish: the router cancelled it (finish cancelled, or no finish)' },
  { code: ExitCode.Output, meaning: 'stdout could not be written (disk full, /dev/full, a closed descriptor)' },
  { code: ExitCode.ToolCall, meaning: 'the answer is a tool call (ask/decode without --tool-exec, or --max-tool-calls reached)' },
  { code: ExitCode.Unauthorized, meaning: 'the router wants an API token or refused the one given (HTTP 401): set --api-token, HARMONY_HPKE_API_TOKEN or profile api_token' },
  { code: ExitCode.Interrupted, meaning: 'interrupted (Ctrl-C); what was printed is kept' },
  { code: ExitCode.Terminated, meaning: 'terminated (SIGTERM); what was printed is kept' },
];
