/**
 * A router that follows the protocol as far as the test wants and no further: it serves a real
 * key config, opens the sealed request with real HPKE, and then hands the encrypted event writer
 * to a script that writes whatever it likes (a cancelled answer, escape sequences in the model's
 * text, a flood of plaintext errors, endless heartbeats). Loopback only; closed by the test.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  EVENT_STREAM_MEDIA_TYPE,
  KEYS_PATH,
  OHTTP_KEYS_MEDIA_TYPE,
  STREAM_PATH,
  deriveResponseKeys,
  encodeKeyConfigList,
  generateRouterKey,
  keyConfigOf,
  openRequest,
  parseRequestPlaintext,
  publicKeyFingerprint,
} from '../../src/hpke/index.js';
import { newResponseNonce } from '../../src/hpke/response.js';
import { EncryptedEventStream } from '../../src/sse/index.js';

export interface HostileScript {
  (io: { stream: EncryptedEventStream; rid: string; res: ServerResponse; req: IncomingMessage }): Promise<void> | void;
}

export interface HostileRouter {
  readonly url: string;
  readonly fingerprint: string;
  close(): Promise<void>;
}

/** The start chunk a real router sends first. */
export function startChunk(rid: string): { t: 'start'; rid: string; model: string; created: number } {
  return { t: 'start', rid, model: 'gpt-oss-20b', created: 1_767_225_600 };
}

export interface HostileOptions {
  /** Answers the POST itself instead (a refusal, say) when it returns true. */
  readonly refuse?: (req: IncomingMessage, res: ServerResponse, rid: string) => boolean;
}

export async function startHostileRouter(script: HostileScript, options: HostileOptions = {}): Promise<HostileRouter> {
  const key = await generateRouterKey({ keyId: 3 });
  const configList = encodeKeyConfigList([keyConfigOf(key)]);
  const server = createServer((req, res) => {
    res.on('error', () => {});
    const path = (req.url ?? '/').split('?')[0];
    if (path === KEYS_PATH) {
      res.writeHead(200, { 'content-type': OHTTP_KEYS_MEDIA_TYPE, 'content-length': configList.byteLength });
      res.end(configList);
      return;
    }
    if (path !== STREAM_PATH || req.method !== 'POST') {
      res.writeHead(404).end();
      return;
    }
    const parts: Buffer[] = [];
    req.on('data', (part: Buffer) => parts.push(part));
    req.on('end', () => {
      void (async () => {
        const opened = await openRequest(Buffer.concat(parts), (id) => (id === key.keyId ? key : undefined));
        const payload = parseRequestPlaintext(opened.plaintext);
        if (options.refuse?.(req, res, payload.rid)) return;
        const nonce = newResponseNonce(opened.header.aeadId);
        const keys = deriveResponseKeys({ secret: opened.secret, enc: opened.enc, responseNonce: nonce, aeadId: opened.header.aeadId });
        const stream = new EncryptedEventStream(keys, {
          kid: opened.header.keyId,
          kem: opened.header.kemId,
          kdf: opened.header.kdfId,
          aead: opened.header.aeadId,
          nonce,
        });
        res.writeHead(200, { 'content-type': EVENT_STREAM_MEDIA_TYPE, 'cache-control': 'no-store' });
        res.write(stream.hpkeEvent());
        await script({ stream, rid: payload.rid, res, req });
      })().catch(() => res.destroy());
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    fingerprint: publicKeyFingerprint(key.publicKey),
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
