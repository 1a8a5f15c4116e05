/** `harmony-hpke ask`: build, seal, send, decrypt and stream the answer, all in one. */
import { existsSync } from 'node:fs';
import { resolve } from 'node:path';
import { Conversation, Message } from '../harmony/index.js';
import { UsageError } from '../errors.js';
import { decryptStreamBatches } from '../sse/index.js';
import type { CliContext } from '../cli/context.js';
import { ExitCode } from '../cli/exit-codes.js';
import { readPrompt } from '../cli/input.js';
import { terminalFor } from '../cli/output.js';
import { checkFinish, doneRecord, rememberResponse, timingLine, viewStream } from '../cli/stream-view.js';
import { resolveRouterSettings } from '../client/config.js';
import { exchange } from '../client/exchange.js';
import { writeUserFile } from '../client/fs-atomic.js';
import { buildConversation, buildPayload } from '../client/request.js';
import { startEmbeddedRouter } from '../client/embedded-router.js';
import { reportStreamError } from '../cli/report.js';
import type { ConversationOptions, DisplayOptions, GlobalOptions, RouterFlagOptions, TimeoutOptions } from '../cli/program.js';
import { timeoutsFrom } from '../cli/program.js';

export interface AskOptions extends GlobalOptions, RouterFlagOptions, ConversationOptions, TimeoutOptions, DisplayOptions {
  readonly save?: string;
  readonly session?: string;
  readonly local?: boolean;
}

export async function run(ctx: CliContext, promptArg: string | undefined, options: AskOptions): Promise<number> {
  const terminal = terminalFor(ctx, options);
  const settings = await resolveRouterSettings(options, ctx.env);
  // --save never replaces a file it was not asked to continue; `--conversation F --save F` with no
  // F yet starts the conversation there. Checked before anything is sent.
  const continuing = options.conversation !== undefined && options.save !== undefined && resolve(options.conversation) === resolve(options.save);
  if (options.save !== undefined && !continuing && existsSync(options.save)) {
    throw new UsageError(
      'SAVE_WOULD_OVERWRITE',
      `--save ${options.save} exists and is not the conversation being continued; add --conversation ${options.save} to continue it, or save elsewhere`,
    );
  }
  const conversationFile = continuing && !existsSync(options.conversation as string) ? undefined : options.conversation;
  if (continuing && conversationFile === undefined) terminal.info(`starting a new conversation in ${options.save}`);
  const prompt = await readPrompt(ctx, promptArg);
  const conversation = await buildConversation({
    prompt,
    system: options.system,
    developer: options.developer,
    conversationFile,
    reasoningEffort: settings.reasoningEffort,
    overrideSavedEffort: settings.reasoningEffortExplicit,
  });
  const payload = buildPayload(conversation, { ...settings, temperature: options.temperature });

  const embedded = settings.router === undefined || options.local ? await startEmbeddedRouter() : undefined;
  if (embedded) {
    terminal.info(
      `${settings.router === undefined ? 'no router configured' : '--local'}: using the embedded local router at ${embedded.url} (built-in echo engine, no model loaded)`,
    );
  }
  const router = embedded?.url ?? (settings.router as string);
  const timeouts = timeoutsFrom(options);
  const spinner = await terminal.spinner(`Asking ${router}`);
  try {
    const result = await exchange({
      router,
      keysFile: embedded ? undefined : settings.keysFile,
      keyPin: embedded ? undefined : settings.keyPin,
      keyPinSource: settings.keyPinSource,
      env: ctx.env,
      payload,
      sessionPath: options.session,
      timeouts,
      signal: ctx.signal,
      onEvent: (event) => {
        if (event.type === 'key') terminal.debug(`router key ${event.key.fingerprint} kid=${event.key.config.keyId} aead=${event.key.aeadId} from ${event.origin}`);
        else if (event.type === 'sealed') terminal.debug(`sealed request: ${event.bytes} bytes, rid=${payload.rid}`);
        else if (event.type === 'retry') terminal.info(`retrying (${event.reason}) in ${event.delayMs} ms`);
        else terminal.info(event.reason);
      },
    });
    spinner.stop();
    terminal.detail(`response headers after ${result.response.headersMs.toFixed(0)} ms`);
    const outcome = await viewStream(decryptStreamBatches(result.response.body, result.session), terminal, { ...options, idleMs: timeouts.idleMs }, result.startedAt);
    if (outcome.responseNonce && options.session) {
      await rememberResponse(terminal, options.session, result.session, outcome.responseNonce);
    }
    checkFinish(outcome, terminal, options);
    if (options.json) terminal.jsonLine(doneRecord(outcome));
    terminal.detail(timingLine(outcome, result.response.firstByteMs()));
    if (options.save) {
      const saved = Conversation.fromMessages([
        ...conversation.messages,
        ...outcome.messages.map((message) => Message.fromDict(message.toDict())),
      ]);
      await writeUserFile(options.save, `${saved.toJson()}\n`, 'conversation', { mode: 0o600 });
      terminal.info(`saved the conversation to ${options.save}`);
    }
    return ExitCode.Ok;
  } catch (error) {
    spinner.stop();
    return reportStreamError(terminal, error, options);
  } finally {
    await embedded?.close();
  }
}
