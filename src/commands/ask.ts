/** `harmony-hpke ask`: build, seal, send, decrypt and stream the answer, all in one. */
import { existsSync, statSync } from 'node:fs';
import { resolve } from 'node:path';
import { UsageError } from '../core/errors.js';
import { Author, Conversation, Message, Role } from '../harmony/model.js';
import type { CliContext } from '../cli/context.js';
import { ExitCode } from '../cli/exit-codes.js';
import { readPrompt } from '../cli/input.js';
import { terminalFor } from '../cli/output.js';
import { doneRecord, timingLine } from '../cli/stream-outcome.js';
import { streamAnswer } from './answer.js';
import { resolveRouterSettings } from '../client/config.js';
import { exchange } from '../client/exchange.js';
import { writeUserFile } from '../node/fs-atomic.js';
import { buildConversation, buildPayload } from '../client/request.js';
import { startEmbeddedRouter } from './embedded-router.js';
import { reportStreamError } from '../cli/report.js';
import { timeoutsFrom, type ConversationOptions, type DisplayOptions, type GlobalOptions, type RouterFlagOptions, type TimeoutOptions, type ToolExecOptions, type ToolOptions } from '../cli/flags.js';
import { answerExitCode } from '../cli/tool-call.js';
import { runToolCommand } from '../cli/tool-exec.js';
import { conversationWithTools, messagesAfterToolCall } from '../client/tools.js';

export interface AskOptions extends GlobalOptions, RouterFlagOptions, ConversationOptions, TimeoutOptions, DisplayOptions, ToolOptions, ToolExecOptions {
  readonly save?: string;
  readonly session?: string;
  readonly local?: boolean;
}

function isFile(path: string): boolean {
  try {
    return statSync(path).isFile();
  } catch {
    return false; // missing, or not reachable: the write reports it (WRITE_FAILED)
  }
}

export async function run(ctx: CliContext, promptArg: string | undefined, options: AskOptions): Promise<number> {
  const terminal = terminalFor(ctx, options);
  const settings = await resolveRouterSettings(options, ctx.env);
  // --save never replaces a file it was not asked to continue; `--conversation F --save F` with no
  // F yet starts the conversation there. Checked before anything is sent.
  const continuing = options.conversation !== undefined && options.save !== undefined && resolve(options.conversation) === resolve(options.save);
  if (options.save !== undefined && !continuing && isFile(options.save)) {
    throw new UsageError(
      'SAVE_WOULD_OVERWRITE',
      `--save ${options.save} exists and is not the conversation being continued; add --conversation ${options.save} to continue it, or save elsewhere`,
    );
  }
  const conversationFile = continuing && options.conversation !== undefined && !existsSync(options.conversation) ? undefined : options.conversation;
  if (continuing && conversationFile === undefined) terminal.info(`starting a new conversation in ${options.save}`);
  const prompt = await readPrompt(ctx, promptArg);
  const conversation = await conversationWithTools(await buildConversation({
    prompt,
    system: options.system,
    developer: options.developer,
    conversationFile,
    reasoningEffort: settings.reasoningEffort,
    overrideSavedEffort: settings.reasoningEffortExplicit,
  }), settings, options);
  // The whole exchange: each tool round trip adds the model's messages and the tool's answer.
  const messages = [...conversation.messages];
  const maxToolCalls = options.maxToolCalls ?? 8;
  let toolCalls = 0;

  const embedded = settings.router === undefined || options.local ? await startEmbeddedRouter() : undefined;
  if (embedded) {
    terminal.info(
      `${settings.router === undefined ? 'no router configured' : '--local'}: using the embedded local router at ${embedded.url} (built-in echo engine, no model loaded)`,
    );
  }
  const router = embedded?.url ?? (settings.router as string);
  const timeouts = timeoutsFrom(options);
  let spinner = await terminal.spinner(`Asking ${router}`);
  try {
    for (;;) {
      // Each round trip is its own sealed request (fresh rid and iat) and verified stream.
      const sent = toolCalls > 0 ? messagesAfterToolCall(messages) : messages;
      // The embedded router wants no token: a configured one stays out of that request.
      const payload = buildPayload(Conversation.fromMessages(sent), {
        ...settings,
        apiToken: embedded ? undefined : settings.apiToken,
        temperature: options.temperature,
      });
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
      const outcome = await streamAnswer(result.response.body, result.session, terminal, {
        ...options,
        buffer: false,
        idleMs: timeouts.idleMs,
        sessionPath: options.session,
        startedAt: result.startedAt,
      });
      messages.push(...outcome.messages.map((message) => Message.fromDict(message.toDict())));
      const call = outcome.toolCall;
      const handled = call !== undefined && options.toolExec !== undefined && toolCalls < maxToolCalls;
      if (!handled) {
        if (call && options.toolExec !== undefined) {
          terminal.warn(`the model called a tool again after ${toolCalls} tool calls (--max-tool-calls ${maxToolCalls}); stopping there`);
        }
        if (options.json) terminal.jsonLine({ ...doneRecord(outcome), tool_calls: toolCalls });
        terminal.detail(timingLine(outcome, result.response.firstByteMs()));
        if (options.save) {
          await writeUserFile(options.save, `${Conversation.fromMessages(messages).toJson()}\n`, 'conversation', { mode: 0o600 });
          terminal.info(`saved the conversation to ${options.save}`);
        }
        return call ? answerExitCode(call) : ExitCode.Ok;
      }
      toolCalls += 1;
      const { output } = await runToolCommand(call, { command: options.toolExec, timeoutMs: options.toolTimeout, signal: ctx.signal, env: ctx.env });
      // The tool's answer, as openai-harmony writes it: author functions.NAME, to the assistant, on commentary.
      messages.push(
        Message.fromAuthorAndContent(new Author(Role.Tool, call.recipient), output).withRecipient('assistant').withChannel('commentary'),
      );
      if (options.json) terminal.jsonLine({ type: 'tool_result', recipient: call.recipient, name: call.name, namespace: call.namespace, output });
      else terminal.info(`tool ${call.recipient.replace(/[^\x21-\x7e]/g, '?').slice(0, 120)} answered (${Buffer.byteLength(output)} bytes); asking again`);
      spinner = await terminal.spinner(`Asking ${router} (after tool call ${toolCalls})`);
    }
  } catch (error) {
    spinner.stop();
    return reportStreamError(terminal, error, options);
  } finally {
    await embedded?.close();
  }
}
