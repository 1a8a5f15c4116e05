/**
 * The package's entry points as another project imports them: by name through package.json
 * "exports" (Node's self-reference), from the built dist/, in a separate Node process.
 */
import { execFileSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../helpers/cli.js';

function runModule(source: string): unknown {
  const out = execFileSync(process.execPath, ['--input-type=module', '-e', source], { cwd: REPO_ROOT, encoding: 'utf8' });
  return JSON.parse(out);
}

describe('package exports', () => {
  it('harmony-hpke/harmony renders and parses like the documented API', () => {
    const result = runModule(`
      import { loadHarmonyEncoding, Conversation, Message, Role, StreamableParser } from 'harmony-hpke/harmony';
      const encoding = loadHarmonyEncoding('HarmonyGptOss');
      const conversation = Conversation.fromMessages([Message.fromRoleAndContent(Role.User, 'What is 2+2?')]);
      const tokens = encoding.renderConversationForCompletion(conversation, Role.Assistant);
      const completion = encoding.encode('<|channel|>final<|message|>4<|return|>', { allowedSpecial: 'all' });
      const parser = new StreamableParser(encoding, Role.Assistant);
      for (const token of completion) parser.process(token);
      parser.processEos();
      console.log(JSON.stringify({
        text: encoding.decode(tokens),
        stops: encoding.stopTokensForAssistantActions(),
        messages: parser.messages.map((m) => m.toDict()),
      }));
    `) as { text: string; stops: number[]; messages: unknown[] };
    expect(result.text).toBe('<|start|>user<|message|>What is 2+2?<|end|><|start|>assistant');
    expect(result.stops.sort()).toEqual([200002, 200012]);
    expect(result.messages).toEqual([
      { role: 'assistant', name: null, content: [{ type: 'text', text: '4' }], channel: 'final' },
    ]);
  });

  it('harmony-hpke/hpke and harmony-hpke/sse seal, open, stream and verify a response end to end', () => {
    const result = runModule(`
      import * as hpke from 'harmony-hpke/hpke';
      import * as sse from 'harmony-hpke/sse';
      const routerKey = await hpke.generateRouterKey();
      const [config] = hpke.parseKeyConfigList(hpke.encodeKeyConfigList([hpke.keyConfigOf(routerKey)]));
      const payload = { v: 1, rid: hpke.newRequestId(), iat: Math.floor(Date.now() / 1000), model: 'm',
        conversation: { messages: [] }, params: { max_tokens: 8 } };
      const sealed = await hpke.sealRequest(config, { kdfId: 1, aeadId: 1 }, hpke.encodeRequestPlaintext(payload));
      // Router side.
      const opened = await hpke.openRequest(sealed.body, (kid) => (kid === routerKey.keyId ? routerKey : undefined));
      const writer = sse.createEncryptedEventStream(opened);
      const text = writer.hpkeEvent() + writer.chunk({ t: 'start', rid: payload.rid, model: 'm', created: payload.iat })
        + writer.chunk({ t: 'tokens', ids: [19], text: '4' })
        + writer.final({ t: 'end', finish: 'stop', usage: { prompt_tokens: 1, completion_tokens: 1 } });
      // Client side: only the session and the SSE bytes.
      const session = hpke.parseSession(hpke.serializeSession(hpke.newSession({ router: 'http://r', config,
        header: sealed.header, enc: sealed.enc, secret: sealed.secret, rid: payload.rid, iat: payload.iat })));
      const types = [];
      for await (const event of sse.decryptStream((async function* () { yield text; })(), session)) {
        if (event.type === 'chunk') types.push(event.message.t + (event.final ? '!' : ''));
      }
      console.log(JSON.stringify({ opened: hpke.parseRequestPlaintext(opened.plaintext).rid === payload.rid, types }));
    `) as { opened: boolean; types: string[] };
    expect(result).toEqual({ opened: true, types: ['start', 'tokens', 'end!'] });
  });

  it('the root entry exposes the three libraries as namespaces and the typed errors', () => {
    const result = runModule(`
      import * as root from 'harmony-hpke';
      console.log(JSON.stringify({
        namespaces: ['harmony', 'hpke', 'sse'].filter((name) => typeof root[name] === 'object'),
        errors: typeof root.HarmonyHpkeError === 'function' && new root.IntegrityError('CHUNK_AUTH_FAILED', 'm').family,
        decrypt: typeof root.sse.decryptStream,
      }));
    `);
    expect(result).toEqual({ namespaces: ['harmony', 'hpke', 'sse'], errors: 'integrity', decrypt: 'function' });
  });

  it('the public API is the listed names only; test hooks are in harmony-hpke/testing; Node entries equal the neutral ones', () => {
    const result = runModule(`
      import * as root from 'harmony-hpke';
      import * as hpke from 'harmony-hpke/hpke';
      import * as sse from 'harmony-hpke/sse';
      import * as testing from 'harmony-hpke/testing';
      const neutral = await import('./dist/src/index.js');
      const neutralHpke = await import('./dist/src/hpke/index.js');
      const neutralSse = await import('./dist/src/sse/index.js');
      const names = (m) => Object.keys(m).sort();
      const key = await hpke.generateRouterKey();
      const config = hpke.keyConfigOf(key);
      const skE = new Uint8Array(32).fill(9);
      const plaintext = hpke.encodeRequestPlaintext({ v: 1, rid: hpke.newRequestId(), iat: 1, model: 'm', conversation: { messages: [] }, params: {} });
      const a = await testing.sealRequestWithEphemeralKey(config, { kdfId: 1, aeadId: 1 }, plaintext, skE);
      const b = await testing.sealRequestWithEphemeralKey(config, { kdfId: 1, aeadId: 1 }, plaintext, skE);
      const c = await hpke.sealRequest(config, { kdfId: 1, aeadId: 1 }, plaintext);
      console.log(JSON.stringify({
        sameRoot: JSON.stringify(names(root)) === JSON.stringify(names(neutral)),
        sameHpke: JSON.stringify(names(hpke)) === JSON.stringify(names(neutralHpke)),
        sameSse: JSON.stringify(names(sse)) === JSON.stringify(names(neutralSse)),
        hpkeCount: names(hpke).length,
        leaked: ['hkdfExpand', 'padToMultiple', 'ephemeralKeyPairFromPrivateKey', 'createCipherSuite', 'ChunkCipher', 'copyBuffer']
          .filter((name) => name in hpke || name in sse),
        testing: names(testing),
        deterministic: hpke.toBase64Url(a.enc) === hpke.toBase64Url(b.enc) && hpke.toBase64Url(a.enc) !== hpke.toBase64Url(c.enc),
      }));
    `) as Record<string, unknown>;
    expect(result).toMatchObject({ sameRoot: true, sameHpke: true, sameSse: true, leaked: [], deterministic: true });
    expect(result.hpkeCount).toBeLessThan(70);
    expect(result.testing).toEqual([
      'createCipherSuite',
      'encryptedEventStreamWithNonce',
      'ephemeralKeyPairFromPrivateKey',
      'sealRequestWithEphemeralKey',
      'x25519Implementation',
    ]);
  });

  it('harmony-hpke/router keeps the fault hooks out; harmony-hpke/router/testing has them', () => {
    const result = runModule(`
      import * as router from 'harmony-hpke/router';
      import * as testing from 'harmony-hpke/router/testing';
      console.log(JSON.stringify({
        leaked: ['parseFault', 'TEST_FAULT_HEADER'].filter((name) => name in router),
        testing: Object.keys(testing).sort(),
        fault: testing.parseFault('disconnect:3'),
        header: testing.TEST_FAULT_HEADER,
        starts: typeof router.startRouter,
      }));
    `) as Record<string, unknown>;
    expect(result).toEqual({
      leaked: [],
      testing: ['TEST_FAULT_HEADER', 'parseFault'],
      fault: { kind: 'disconnect', afterTokens: 3 },
      header: 'x-harmony-hpke-test-fault',
      starts: 'function',
    });
  });
});
