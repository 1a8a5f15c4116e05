/**
 * The router's keys: the first is current (published), the others retired — still accepted for
 * a grace period so that clients holding the old key config keep working.
 *
 * The grace period of a retired key counts from the moment this router first held it as retired:
 * start-up for the keys it was started with, the reload (SIGHUP) for a key that was current
 * before the reload. A reload that keeps a retired key keeps its deadline.
 */
import { encodeKeyConfigList, keyConfigOf, publicKeyFingerprint, type RouterKey } from '../hpke/index.js';
import { UsageError } from '../core/errors.js';

function sameKey(a: RouterKey, b: RouterKey): boolean {
  return a.keyId === b.keyId && Buffer.from(a.publicKey).equals(Buffer.from(b.publicKey));
}

export class Keyring {
  readonly current: RouterKey;
  private readonly retired: ReadonlyArray<{ readonly key: RouterKey; readonly until: number }>;
  private readonly now: () => number;
  private readonly published: Uint8Array;

  constructor(keys: readonly RouterKey[], options: { graceMs: number; now?: () => number; previous?: Keyring }) {
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
    this.now = options.now ?? Date.now;
    const start = this.now();
    this.retired = retired.map((key) => {
      const kept = options.previous?.retired.find((entry) => sameKey(entry.key, key));
      return { key, until: kept ? kept.until : start + options.graceMs };
    });
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
    const entry = this.retired.find((candidate) => candidate.key.keyId === keyId);
    if (!entry || this.now() >= entry.until) return undefined;
    return entry.key;
  }
}
