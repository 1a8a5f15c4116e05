/** `harmony-hpke create-request`: seal a request, write its session file, print the envelope. */
import type { CliContext } from '../cli/context.js';
import { ExitCode } from '../cli/exit-codes.js';
import { readPrompt } from '../cli/input.js';
import { terminalFor } from '../cli/output.js';
import { resolveRouterSettings } from '../client/config.js';
import { writeUserFile } from '../node/fs-atomic.js';
import { resolveRouterKey } from '../client/keys.js';
import { buildConversation, buildPayload, curlCommand, sealForRouter, toEnvelope } from '../client/request.js';
import { defaultSessionPath, storeSession } from '../client/session-store.js';
import { UsageError } from '../core/errors.js';
import { timeoutsFrom, type ConversationOptions, type GlobalOptions, type RouterFlagOptions, type ToolOptions } from '../cli/flags.js';
import { conversationWithTools } from '../client/tools.js';

export interface CreateRequestOptions extends GlobalOptions, RouterFlagOptions, ConversationOptions, ToolOptions {
  readonly session?: string;
  readonly bodyOut?: string;
  readonly curl?: boolean;
}

export async function run(ctx: CliContext, promptArg: string | undefined, options: CreateRequestOptions): Promise<number> {
  const terminal = terminalFor(ctx, options);
  const settings = await resolveRouterSettings(options, ctx.env);
  if (settings.router === undefined) {
    throw new UsageError('NO_ROUTER', 'no router: pass --router URL or set HARMONY_HPKE_ROUTER (or a config profile)');
  }
  const conversation = await conversationWithTools(await buildConversation({
    prompt: await readPrompt(ctx, promptArg),
    system: options.system,
    developer: options.developer,
    conversationFile: options.conversation,
    reasoningEffort: settings.reasoningEffort,
    overrideSavedEffort: settings.reasoningEffortExplicit,
  }), settings, options);
  const key = await resolveRouterKey({
    router: settings.router,
    keysFile: settings.keysFile,
    keyPin: settings.keyPin,
    keyPinSource: settings.keyPinSource,
    env: ctx.env,
    signal: ctx.signal,
    timeouts: timeoutsFrom({}, 30_000),
  });
  terminal.debug(`router key ${key.fingerprint} kid=${key.config.keyId} aead=${key.aeadId} from ${key.source.origin}`);
  const payload = buildPayload(conversation, { ...settings, temperature: options.temperature });
  const sealed = await sealForRouter(settings.router, key, payload);
  const sessionPath = options.session ?? defaultSessionPath(ctx.env, payload.rid);
  // The session is on disk before anything that could send the request exists.
  await storeSession(ctx.env, sessionPath, sealed.session);
  if (options.bodyOut !== undefined) await writeUserFile(options.bodyOut, sealed.body, 'request body', { mode: 0o600 });
  const envelope = toEnvelope(sealed, sessionPath);
  terminal.debug(`sealed request: ${sealed.body.byteLength} bytes, rid=${payload.rid}`);
  if (options.curl) {
    terminal.writeOut(`${curlCommand(envelope, options.bodyOut)}\n`);
    terminal.info(`session written to ${sessionPath}; decode the answer with: harmony-hpke decode`);
  } else {
    terminal.jsonLine(envelope);
  }
  return ExitCode.Ok;
}
