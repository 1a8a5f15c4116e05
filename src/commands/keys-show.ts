/** `harmony-hpke keys show FILE`: ids, suites and fingerprint of a key file or key config; never the private key. */
import { readFile } from 'node:fs/promises';
import { encodeKeyConfigList, keyConfigOf, parseKeyConfigList, type KeyConfig } from '../hpke/index.js';
import type { CliContext } from '../cli/context.js';
import { ExitCode } from '../cli/exit-codes.js';
import { inputFileError } from '../cli/input.js';
import { describeKeyConfig } from '../cli/key-description.js';
import { terminalFor } from '../cli/output.js';
import { writeUserFile } from '../node/fs-atomic.js';
import { readRouterKeyFile } from '../router/key-file.js';
import type { GlobalOptions } from '../cli/flags.js';

export interface KeysShowOptions extends GlobalOptions {
  readonly json?: boolean;
  readonly configOut?: string;
}

export async function run(ctx: CliContext, file: string, options: KeysShowOptions): Promise<number> {
  const terminal = terminalFor(ctx, options);
  let head: Buffer;
  try {
    head = await readFile(file);
  } catch (error) {
    throw inputFileError(error, 'key file', file);
  }
  const isKeyFile = head[0] === 0x7b;
  const configs: KeyConfig[] = isKeyFile ? [keyConfigOf(await readRouterKeyFile(file))] : parseKeyConfigList(head);
  if (options.configOut) await writeUserFile(options.configOut, encodeKeyConfigList(configs), 'key config');
  const described = configs.map(describeKeyConfig);
  if (options.json) {
    terminal.jsonLine({ file, kind: isKeyFile ? 'router-key' : 'key-config', keys: described });
  } else {
    for (const key of described) {
      terminal.writeOut(
        `key id ${key.key_id}  kem 0x${key.kem_id.toString(16).padStart(4, '0')}  ${key.fingerprint}  suites ${key.suites
          .map(([kdf, aead]) => `${kdf}/${aead}`)
          .join(' ')}${isKeyFile ? '  (private key present, not shown)' : ''}\n`,
      );
    }
  }
  return ExitCode.Ok;
}
