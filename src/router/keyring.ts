/**
 * The router's keys: the first is current (published), the others retired — still accepted for
 * a grace period after start-up so that clients holding the old key config keep working.
 */
import { encodeKeyConfigList, keyConfigOf, publicKeyFingerprint, type RouterKey } from '../hpke/index.js';
import { UsageError } from '../errors.js';

export class Keyring {
  readonly current: RouterKey;
  private readonly retired: readonly RouterKey[];
  private readonly retiredUntil: number;
  private readonly now: () => number;
  private readonly published: Uint8Array;

  constructor(keys: readonly RouterKey[], options: { graceMs: number; now?: () => number }) {
    const [current, ...retired] = keys;
    if (!current) throw new UsageError('NO_ROUTER_KEY', 'the router needs at least one key');
    const ids = new Set<number>();
    for (const key of keys) {
      if (ids.has(key.keyId)) {
        throw new UsageError('DUPLICATE_KEY_ID', `two router keys share key id ${key.keyId}; give each key its own id`);
      }
      ids.add(key.keyId);
    }
    this.current = current;
    this.retired = retired;
    this.now = options.now ?? Date.now;
    this.retiredUntil = this.now() + options.graceMs;
    this.published = encodeKeyConfigList([keyConfigOf(current)]);
  }

  /** The `application/ohttp-keys` body: only the current key is offered to new clients. */
  get keyConfigList(): Uint8Array {
    return this.published;
  }

  get fingerprint(): string {
    return publicKeyFingerprint(this.current.publicKey);
  }

  lookup(keyId: number): RouterKey | undefined {
    if (keyId === this.current.keyId) return this.current;
    if (this.now() >= this.retiredUntil) return undefined;
    return this.retired.find((key) => key.keyId === keyId);
  }
}
