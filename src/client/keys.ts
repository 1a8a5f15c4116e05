/**
 * Where the client gets the router's key: a key config file (offline), or the router's
 * /.well-known/hpke-keys, checked against a pin (flag, env, profile, or the pin store).
 */
import { mkdir, readFile, rm, stat } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  matchesPin,
  parseKeyConfigList,
  parseKeyPin,
  parseRouterKeyFile,
  keyConfigOf,
  selectKeyConfig,
  publicKeyFingerprint,
  KEYS_PATH,
  OHTTP_KEYS_MEDIA_TYPE,
  encodeKeyConfigList,
  type KeyConfig,
} from '../hpke/index.js';
import { HarmonyHpkeError, KeyError, UsageError } from '../core/errors.js';
import type { Env } from '../node/env.js';
import { parseUrl, readAll, routerUrl, sendWithRetry, type Timeouts } from './http.js';
import { writeUserFile } from '../node/fs-atomic.js';
import { pinsFile } from '../node/paths.js';

export { KEYS_PATH, OHTTP_KEYS_MEDIA_TYPE };

export interface KeySource {
  readonly configs: KeyConfig[];
  /** The `application/ohttp-keys` bytes as received or read. */
  readonly bytes: Uint8Array;
  readonly origin: 'file' | 'router';
}

/** Reads an application/ohttp-keys file, or the public half of a router key file (JSON). */
export async function readKeyConfigFile(path: string): Promise<KeySource> {
  let bytes: Uint8Array;
  try {
    bytes = await readFile(path);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    throw new UsageError(
      code === 'ENOENT' ? 'KEYS_FILE_NOT_FOUND' : 'KEYS_FILE_UNREADABLE',
      `cannot read key config file ${path}: ${code === 'ENOENT' ? 'no such file' : (code ?? 'error')}`,
    );
  }
  if (bytes.byteLength > 0 && bytes[0] === 0x7b /* '{' */) {
    const key = parseRouterKeyFile(Buffer.from(bytes).toString('utf8'));
    const config = keyConfigOf(key);
    return { configs: [config], bytes: encodeKeyConfigList([config]), origin: 'file' };
  }
  return { configs: parseKeyConfigList(bytes), bytes, origin: 'file' };
}

export async function fetchKeyConfigs(
  router: string,
  options: { timeouts?: Timeouts; signal?: AbortSignal | undefined } = {},
): Promise<KeySource> {
  const response = await sendWithRetry({
    method: 'GET',
    url: routerUrl(router, KEYS_PATH),
    headers: { accept: OHTTP_KEYS_MEDIA_TYPE },
    timeouts: options.timeouts ?? {},
    signal: options.signal,
  });
  const bytes = await readAll(response.body, 64 * 1024);
  const type = response.headers['content-type']?.split(';')[0]?.trim().toLowerCase();
  if (type !== OHTTP_KEYS_MEDIA_TYPE) {
    throw new KeyError('KEY_CONFIG_MEDIA_TYPE', `the router's key endpoint answered ${type ?? 'no content type'}, not ${OHTTP_KEYS_MEDIA_TYPE}`);
  }
  return { configs: parseKeyConfigList(bytes), bytes, origin: 'router' };
}

/** The pin store key for a router: its origin plus path prefix, so profiles on one host stay apart. */
export function pinStoreKey(router: string): string {
  const url = parseUrl(router);
  return `${url.origin}${url.pathname.replace(/\/+$/, '')}`;
}

type PinStore = Record<string, string>;

export async function readPinStore(env: Env): Promise<PinStore> {
  let text: string;
  try {
    text = await readFile(pinsFile(env), 'utf8');
  } catch {
    return {};
  }
  try {
    const parsed = JSON.parse(text) as { pins?: unknown };
    if (typeof parsed.pins !== 'object' || parsed.pins === null) throw new Error('no pins');
    const pins: PinStore = {};
    for (const [router, pin] of Object.entries(parsed.pins)) {
      if (typeof pin === 'string') pins[router] = parseKeyPin(pin);
    }
    return pins;
  } catch {
    throw new UsageError('PIN_STORE_INVALID', `pin store ${pinsFile(env)} is corrupt; fix or remove it`);
  }
}

export async function writePinStore(env: Env, pins: PinStore): Promise<void> {
  const sorted = Object.fromEntries(Object.entries(pins).sort(([a], [b]) => a.localeCompare(b)));
  await writeUserFile(pinsFile(env), `${JSON.stringify({ pins: sorted }, null, 2)}\n`, 'pin store', { mode: 0o644 });
}

/**
 * Read-modify-write of the pin store under a lock (a directory beside it, created atomically), so
 * concurrent `keys pin` runs never lose each other's pins. A lock older than 30 s is a dead
 * writer's and is taken over.
 */
export async function updatePinStore<T>(env: Env, change: (pins: PinStore) => T): Promise<T> {
  const lock = `${pinsFile(env)}.lock`;
  await mkdir(dirname(lock), { recursive: true });
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'EEXIST') throw new UsageError('PIN_STORE_LOCK', `cannot lock the pin store ${pinsFile(env)}: ${code ?? 'error'}`);
      const age = await stat(lock).then((info) => Date.now() - info.mtimeMs, () => 0);
      if (age > 30_000) await rm(lock, { recursive: true, force: true });
      else if (Date.now() > deadline) throw new UsageError('PIN_STORE_LOCK', `the pin store ${pinsFile(env)} stays locked by another run (${lock})`);
      else await new Promise((resolve) => setTimeout(resolve, 10 + Math.random() * 20));
    }
  }
  try {
    const pins = await readPinStore(env);
    const result = change(pins);
    await writePinStore(env, pins);
    return result;
  } finally {
    await rm(lock, { recursive: true, force: true });
  }
}

export interface SelectedKey {
  readonly config: KeyConfig;
  readonly kdfId: number;
  readonly aeadId: number;
  readonly fingerprint: string;
}

/**
 * The first config with a supported suite; with a pin, the first such config whose public key
 * matches it (a router in rotation serves several keys), else a PIN_MISMATCH error.
 */
export function chooseKey(configs: readonly KeyConfig[], pin: string | undefined, pinSource?: string): SelectedKey {
  const candidates = pin === undefined ? configs : configs.filter((config) => matchesPin(config.publicKey, pin));
  if (candidates.length === 0) {
    const offered = configs.map((config) => publicKeyFingerprint(config.publicKey)).join(', ');
    throw new KeyError('PIN_MISMATCH', `the router's key ${offered || '(none)'} does not match the pinned fingerprint ${pin}${pinSource ? ` (pin from ${pinSource})` : ''}`);
  }
  let selected: ReturnType<typeof selectKeyConfig>;
  try {
    selected = selectKeyConfig(candidates);
  } catch (error) {
    // The same refusal, said of the router.
    if (error instanceof KeyError && error.code === 'NO_SUPPORTED_SUITE') {
      throw new KeyError('NO_SUPPORTED_SUITE', 'the router offers no key with a supported HPKE suite', { cause: error });
    }
    throw error;
  }
  return { ...selected, fingerprint: publicKeyFingerprint(selected.config.publicKey) };
}

export interface ResolveKeyOptions {
  readonly router: string;
  readonly keysFile?: string | undefined;
  readonly keyPin?: string | undefined;
  /** Where keyPin came from (named in a mismatch); the pin store when there is no keyPin. */
  readonly keyPinSource?: string | undefined;
  readonly env: Env;
  readonly timeouts?: Timeouts;
  readonly signal?: AbortSignal | undefined;
  /** Skip a file and fetch again (after a 422 from the router). */
  readonly forceFetch?: boolean;
}

export async function resolveRouterKey(options: ResolveKeyOptions): Promise<SelectedKey & { source: KeySource }> {
  let explicitPin: string | undefined;
  try {
    explicitPin = options.keyPin === undefined ? undefined : parseKeyPin(options.keyPin);
  } catch (error) {
    if (options.keyPinSource === undefined || !(error instanceof HarmonyHpkeError)) throw error;
    // The same error (code and family), saying where the pin came from.
    error.message = `${error.message} (pin from ${options.keyPinSource})`;
    throw error;
  }
  const pin = explicitPin ?? (await readPinStore(options.env))[pinStoreKey(options.router)];
  const pinSource = explicitPin !== undefined ? options.keyPinSource : pin !== undefined ? `the pin store ${pinsFile(options.env)}` : undefined;
  const source =
    options.keysFile !== undefined && !options.forceFetch
      ? await readKeyConfigFile(options.keysFile)
      : await fetchKeyConfigs(options.router, { timeouts: options.timeouts ?? {}, signal: options.signal });
  return { ...chooseKey(source.configs, pin, pinSource), source };
}
