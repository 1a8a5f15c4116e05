/** `harmony-hpke ask`: build, seal, send, decrypt and stream the answer, all in one. */
import { Conversation, Message } from '../harmony/index.js';
import { decryptStreamBatches } from '../sse/index.js';
import type { CliContext } from '../cli/context.js';
import { ExitCode } from '../cli/exit-codes.js';
import { readPrompt } from '../cli/input.js';
import { terminalFor } from '../cli/output.js';
import { doneRecord, rememberResponse, timingLine, viewStream } from '../cli/stream-view.js';
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
  const prompt = await readPrompt(ctx, promptArg);
  const conversation = await buildConversation({
    prompt,
    system: options.system,
    developer: options.developer,
    conversationFile: options.conversation,
    reasoningEffort: settings.reasoningEffort,
    overrideSavedEffort: settings.reasoningEffortExplicit,
  });
  const embedded = settings.router === undefined || options.local ? await startEmbeddedRouter() : undefined;
  // The embedded router wants no token: a configured one stays out of that request.
  const payload = buildPayload(conversation, {
    ...settings,
    apiToken: embedded ? undefined : settings.apiToken,
    temperature: options.temperature,
  });
  if (embedded) {
    terminal.info(
      `${settings.router === undefined ? 'no router configured' : '--local'}: using the embedded local router at ${embedded.url} (built-in echo engine, no model loaded)`,
    );
  }
  const router = embedded?.url ?? (settings.router as string);
  const spinner = await terminal.spinner(`Asking ${router}`);
  try {
    const result = await exchange({
      router,
      keysFile: embedded ? undefined : settings.keysFile,
      keyPin: embedded ? undefined : settings.keyPin,
      env: ctx.env,
      payload,
      sessionPath: options.session,
      timeouts: timeoutsFrom(options),
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
    const outcome = await viewStream(decryptStreamBatches(result.response.body, result.session), terminal, options, result.startedAt);
    if (outcome.responseNonce && options.session) {
      await rememberResponse(terminal, options.session, result.session, outcome.responseNonce);
    }
    if (options.json) terminal.jsonLine(doneRecord(outcome));
    terminal.detail(timingLine(outcome, result.response.firstByteMs()));
    if (options.save) {
      const saved = Conversation.fromMessages([
        ...conversation.messages,
        ...outcome.messages.map((message) => Message.fromDict(message.toDict())),
      ]);
      await writeUserFile(options.save, `${saved.toJson()}\n`, 'conversation');
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
