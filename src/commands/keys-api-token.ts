/**
 * `harmony-hpke keys api-token create --name NAME [--file FILE]`: a new API token, printed once on
 * stdout (it is never stored), its hash appended to the router's API token file (mode 0600).
 */
import type { CliContext } from '../cli/context.js';
import { ExitCode } from '../cli/exit-codes.js';
import { terminalFor } from '../cli/output.js';
import { UsageError } from '../core/errors.js';
import { appendApiToken } from '../router/auth/token-file.js';
import { isValidTokenName, newApiToken } from '../router/auth/tokens.js';

export const DEFAULT_API_TOKEN_FILE = 'api-tokens.jsonl';

export interface ApiTokenCreateOptions {
  readonly name: string;
  readonly file?: string;
  readonly maxStreams?: number;
  readonly requestsPerMinute?: number;
  readonly maxTokens?: number;
  readonly json?: boolean;
  readonly quiet?: boolean;
}

export async function run(ctx: CliContext, options: ApiTokenCreateOptions): Promise<number> {
  if (!isValidTokenName(options.name)) {
    throw new UsageError('USAGE_TOKEN_NAME', "--name must be 1-64 letters, digits, '.', '_' or '-' (starting with a letter or digit)");
  }
  const terminal = terminalFor(ctx, options);
  const file = options.file ?? ctx.env['HARMONY_HPKE_API_KEYS'] ?? DEFAULT_API_TOKEN_FILE;
  const token = newApiToken();
  await appendApiToken(file, options.name, token, {
    maxStreams: options.maxStreams,
    requestsPerMinute: options.requestsPerMinute,
    maxTokens: options.maxTokens,
  });
  if (options.json) {
    terminal.jsonLine({ name: options.name, token, file });
  } else {
    terminal.writeOut(`${token}\n`);
    terminal.info(
      `added API token '${options.name}' to ${file}; the token is shown only now: give it to the client ` +
        '(HARMONY_HPKE_API_TOKEN or profile api_token), then send SIGHUP to running routers',
    );
  }
  return ExitCode.Ok;
}
