/** How the CLI describes a key config (keys show, keys fetch, inspect): ids, fingerprint, suites; never a private key. */
import { keyConfigSha256, publicKeyFingerprint, type KeyConfig } from '../hpke/index.js';

export interface KeyDescription {
  readonly key_id: number;
  readonly kem_id: number;
  /** The pin form, `sha256:<hex>` of the public key. */
  readonly fingerprint: string;
  readonly key_config_sha256: string;
  /** `[kdf_id, aead_id]` for each offered suite. */
  readonly suites: ReadonlyArray<readonly [number, number]>;
}

export function describeKeyConfig(config: KeyConfig): KeyDescription {
  return {
    key_id: config.keyId,
    kem_id: config.kemId,
    fingerprint: publicKeyFingerprint(config.publicKey),
    key_config_sha256: keyConfigSha256(config),
    suites: config.suites.map((suite) => [suite.kdfId, suite.aeadId] as const),
  };
}
