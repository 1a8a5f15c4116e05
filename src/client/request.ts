/**
 * Building and sealing a request: conversation from flags or a saved file, the payload, the HPKE
 * seal, the session file (written before anything is sent) and the envelope `send` reads.
 */
import { readFile } from 'node:fs/promises';
import {
  encodeRequestPlaintext,
  newRequestId,
  newSession,
  sealRequest,
  EVENT_STREAM_MEDIA_TYPE,
  REQUEST_MEDIA_TYPE,
  STREAM_PATH,
  type RequestPayload,
  type Session,
} from '../hpke/index.js';
import { Conversation, DeveloperContent, Message, ReasoningEffort, Role, SystemContent } from '../harmony/model.js';
import { UsageError } from '../core/errors.js';
import { fileReadError } from '../node/file-errors.js';
import { routerUrl } from './http.js';
import type { SelectedKey } from './keys.js';

export { REQUEST_MEDIA_TYPE, STREAM_PATH };

export interface ConversationInputs {
  readonly prompt?: string | undefined;
  readonly system?: string | undefined;
  readonly developer?: string | undefined;
  readonly conversationFile?: string | undefined;
  /** The reasoning effort for a system message built from `system` (default medium). */
  readonly reasoningEffort?: 'low' | 'medium' | 'high' | undefined;
  /** Also set `reasoningEffort` on a saved conversation's own system message (it was asked for). */
  readonly overrideSavedEffort?: boolean | undefined;
}

const EFFORTS = { low: ReasoningEffort.Low, medium: ReasoningEffort.Medium, high: ReasoningEffort.High } as const;

export async function loadConversationFile(path: string): Promise<Conversation> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    throw fileReadError(error, 'conversation file', path, 'CONVERSATION');
  }
  try {
    return Conversation.fromJson(text);
  } catch (error) {
    throw new UsageError('CONVERSATION_INVALID', `conversation file ${path} is not an openai-harmony conversation: ${(error as Error).message}`);
  }
}

/**
 * The messages to send. The router adds a default system message (with the reasoning effort from
 * the params) when the conversation has none, so one is only sent when --system asks for it; then
 * the reasoning effort goes into that message, since the router leaves a given system message alone.
 */
export async function buildConversation(inputs: ConversationInputs): Promise<Conversation> {
  const messages: Message[] = inputs.conversationFile
    ? [...(await loadConversationFile(inputs.conversationFile)).messages]
    : [];
  const effort = EFFORTS[inputs.reasoningEffort ?? 'medium'];
  if (inputs.system !== undefined) {
    const system = Message.fromRoleAndContent(
      Role.System,
      SystemContent.new().withModelIdentity(inputs.system).withReasoningEffort(effort),
    );
    if (messages[0]?.author.role === Role.System) messages[0] = system;
    else messages.unshift(system);
  } else if (inputs.overrideSavedEffort && inputs.reasoningEffort !== undefined && messages[0]?.author.role === Role.System) {
    // The saved conversation was parsed just now: its system content is ours to change.
    for (const part of messages[0].content) if (part instanceof SystemContent) part.reasoningEffort = effort;
  }
  if (inputs.developer !== undefined) {
    const developer = Message.fromRoleAndContent(Role.Developer, DeveloperContent.new().withInstructions(inputs.developer));
    const at = messages.findIndex((message) => message.author.role === Role.Developer);
    if (at >= 0) messages[at] = developer;
    else messages.splice(messages[0]?.author.role === Role.System ? 1 : 0, 0, developer);
  }
  if (inputs.prompt !== undefined) {
    if (inputs.prompt.trim() === '') throw new UsageError('EMPTY_PROMPT', 'the prompt is empty');
    messages.push(Message.fromRoleAndContent(Role.User, inputs.prompt));
  }
  if (!messages.some((message) => message.author.role === Role.User)) {
    throw new UsageError('NO_PROMPT', 'no prompt: give one as an argument, pipe it in, or pass --conversation');
  }
  return Conversation.fromMessages(messages);
}

export interface PayloadSettings {
  readonly model: string;
  readonly maxTokens: number;
  readonly reasoningEffort: 'low' | 'medium' | 'high';
  /**
   * False when no flag, env or profile chose the effort: then params carry none and the router's
   * default (`serve --reasoning-effort`, else medium) applies.
   */
  readonly reasoningEffortExplicit?: boolean | undefined;
  readonly temperature?: number | undefined;
  /** Sent inside the sealed payload only; never in a header, argv of a child, log or session file. */
  readonly apiToken?: string | undefined;
}

export function buildPayload(conversation: Conversation, settings: PayloadSettings, nowMs = Date.now()): RequestPayload {
  return {
    v: 1,
    rid: newRequestId(),
    iat: Math.floor(nowMs / 1000),
    model: settings.model,
    conversation: conversation.toDict() as { messages: unknown[] },
    params: {
      max_tokens: settings.maxTokens,
      ...(settings.temperature !== undefined ? { temperature: settings.temperature } : {}),
      ...(settings.reasoningEffortExplicit === false ? {} : { reasoning_effort: settings.reasoningEffort }),
    },
    ...(settings.apiToken !== undefined ? { api_token: settings.apiToken } : {}),
  };
}

export interface Envelope {
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
  /** The sealed body, standard base64. */
  readonly body: string;
  /** Path of the session file that decrypts the answer. */
  readonly session: string;
  readonly rid: string;
}

export interface SealedForRouter {
  readonly body: Uint8Array;
  readonly session: Session;
  readonly url: string;
  readonly headers: Readonly<Record<string, string>>;
}

export async function sealForRouter(router: string, key: SelectedKey, payload: RequestPayload): Promise<SealedForRouter> {
  const sealed = await sealRequest(key.config, { kdfId: key.kdfId, aeadId: key.aeadId }, encodeRequestPlaintext(payload));
  // The session's ids come from the header the request was sealed with; newSession checks them.
  const session = newSession({
    router,
    config: key.config,
    header: sealed.header,
    enc: sealed.enc,
    secret: sealed.secret,
    rid: payload.rid,
    iat: payload.iat,
  });
  return {
    body: sealed.body,
    session,
    url: routerUrl(router, STREAM_PATH),
    headers: { 'content-type': REQUEST_MEDIA_TYPE, accept: EVENT_STREAM_MEDIA_TYPE },
  };
}

export function toEnvelope(sealed: SealedForRouter, sessionPath: string): Envelope {
  return {
    url: sealed.url,
    headers: sealed.headers,
    body: Buffer.from(sealed.body).toString('base64'),
    session: sessionPath,
    rid: sealed.session.rid,
  };
}

export function parseEnvelope(text: string, source: string): Envelope {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new UsageError('ENVELOPE_INVALID', `${source} is not a JSON envelope from create-request`);
  }
  const envelope = value as Partial<Envelope> | null;
  if (
    typeof envelope !== 'object' ||
    envelope === null ||
    typeof envelope.url !== 'string' ||
    typeof envelope.body !== 'string' ||
    typeof envelope.headers !== 'object' ||
    envelope.headers === null ||
    Object.values(envelope.headers).some((header) => typeof header !== 'string')
  ) {
    throw new UsageError('ENVELOPE_INVALID', `${source} is not a JSON envelope from create-request (needs url, headers, body)`);
  }
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(envelope.body) || envelope.body.length % 4 !== 0) {
    throw new UsageError('ENVELOPE_INVALID', `${source}: body is not base64`);
  }
  return {
    url: envelope.url,
    headers: envelope.headers,
    body: envelope.body,
    session: typeof envelope.session === 'string' ? envelope.session : '',
    rid: typeof envelope.rid === 'string' ? envelope.rid : '',
  };
}

/** A POSIX-shell-safe single-quoted word. */
export function shellQuote(text: string): string {
  return `'${text.replace(/'/g, `'\\''`)}'`;
}

/** One line that `| grep curl | bash` runs: the body travels as base64 through `base64 -d`. */
export function curlCommand(envelope: Envelope, bodyFile?: string): string {
  const headers = Object.entries(envelope.headers)
    .map(([name, value]) => `-H ${shellQuote(`${name}: ${value}`)}`)
    .join(' ');
  const data = bodyFile !== undefined ? `--data-binary @${shellQuote(bodyFile)}` : '--data-binary @-';
  const curl = `curl -sS -N --fail-with-body -X POST ${headers} ${data} ${shellQuote(envelope.url)}`;
  return bodyFile !== undefined ? curl : `printf '%s' ${shellQuote(envelope.body)} | base64 -d | ${curl}`;
}
