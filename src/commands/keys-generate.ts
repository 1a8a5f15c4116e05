/** `harmony-hpke keys generate --out FILE`: a new router key, private key file mode 0600. */
import { generateRouterKey, publicKeyFingerprint } from '../hpke/index.js';
import type { CliContext } from '../cli/context.js';
import { ExitCode } from '../cli/exit-codes.js';
import { terminalFor } from '../cli/output.js';
import { writeRouterKeyFile } from '../router/key-file.js';
import { UsageError } from '../core/errors.js';
import type { GlobalOptions } from '../cli/flags.js';

export interface KeysGenerateOptions extends GlobalOptions {
  readonly out: string;
  readonly keyId?: number;
  readonly force?: boolean;
  readonly json?: boolean;
}

export async function run(ctx: CliContext, options: KeysGenerateOptions): Promise<number> {
  if (options.keyId !== undefined && options.keyId > 255) {
    throw new UsageError('USAGE_KEY_ID', '--key-id must be between 0 and 255');
  }
  const terminal = terminalFor(ctx, options);
  const key = await generateRouterKey(options.keyId !== undefined ? { keyId: options.keyId } : {});
  await writeRouterKeyFile(options.out, key, options.force ?? false);
  const fingerprint = publicKeyFingerprint(key.publicKey);
  if (options.json) terminal.jsonLine({ file: options.out, key_id: key.keyId, fingerprint });
  else terminal.writeOut(`wrote router key ${options.out} (key id ${key.keyId}, ${fingerprint})\n`);
  return ExitCode.Ok;
}
