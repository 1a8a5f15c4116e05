/**
 * The error registry: every error code this project raises, reports or logs, with the family it
 * belongs to (and so the exit code the CLI maps it to, src/cli/exit-codes.ts) and what it means.
 *
 * It is the one table of codes: `ErrorCode` is its key union, the error classes in errors.ts take an
 * `ErrorCode` of their own family (`CodeOf<'usage'>` for UsageError, ...), so a code that is not
 * listed here, or that is thrown with another family's class, fails the typecheck. Codes are part
 * of the public interface (scripts and tests match on them): never rename one.
 *
 * `scope` says where a code arises:
 *   protocol  src/hpke and src/sse (the harmony-hpke/1 library; docs/protocol.md section 10 lists them)
 *   harmony   src/harmony (the Harmony encoding)
 *   client    the client and the CLI commands
 *   router    the router's own configuration, files and listener (thrown on the router's host)
 *   engine    an engine or upstream failure the router reports in its authenticated `error`
 *             chunk; a client sees it as ROUTER_ERROR (family router, exit 8) with this code in
 *             `routerCode`
 *   log       written only in the router's request log (never thrown)
 *
 * One code has two families on purpose: ANSWER_CUT_AT_LENGTH is an incomplete answer (exit 11)
 * for `ask --strict`, and a failed check (exit 10) for `smoke`; `alsoFamily` records it.
 */
/** What kind of failure a code is; the CLI maps each family to one exit code. */
export type ErrorFamily =
  | 'internal'
  | 'usage'
  | 'network'
  | 'key'
  | 'refused'
  | 'integrity'
  | 'truncated'
  | 'router'
  | 'harmony'
  | 'check'
  | 'incomplete'
  | 'output'
  | 'auth';

export type ErrorScope = 'protocol' | 'harmony' | 'client' | 'router' | 'engine' | 'log';

export interface ErrorCodeInfo {
  readonly family: ErrorFamily;
  readonly alsoFamily?: ErrorFamily;
  readonly scope: ErrorScope;
  readonly meaning: string;
}

export const ERROR_CODES = {
  // ---- protocol: src/hpke and src/sse (docs/protocol.md section 10, row for row) ----
  BASE64URL_INVALID: { family: 'usage', scope: 'protocol', meaning: 'a field is not canonical unpadded base64url' },
  AEAD_UNSUPPORTED: { family: 'key', scope: 'protocol', meaning: 'the AEAD id is not one of 0x0001, 0x0002, 0x0003' },
  SUITE_UNSUPPORTED: { family: 'key', scope: 'protocol', meaning: 'the requested suite is not supported or not offered by the key config' },
  KEY_CONFIG_INVALID: { family: 'key', scope: 'protocol', meaning: 'the application/ohttp-keys body is malformed (lengths, suites, trailing bytes)' },
  NO_SUPPORTED_SUITE: { family: 'key', scope: 'protocol', meaning: 'no key config in the list offers a suite this client supports' },
  PUBLIC_KEY_INVALID: { family: 'key', scope: 'protocol', meaning: 'the public key has the wrong length or cannot be used' },
  PRIVATE_KEY_INVALID: { family: 'key', scope: 'protocol', meaning: 'the private key has the wrong length or cannot be used' },
  KEY_OPTIONS_INVALID: { family: 'usage', scope: 'protocol', meaning: 'a key id is not 0..255 or a suite list is empty or unsupported' },
  KEY_PIN_INVALID: { family: 'usage', scope: 'protocol', meaning: 'a key pin is not "sha256:" followed by 64 hex digits' },
  KEY_FILE_CORRUPT: { family: 'key', scope: 'protocol', meaning: 'the router key file is not valid JSON or a field is missing or invalid' },
  KEY_FILE_WRONG_FORMAT: { family: 'key', scope: 'protocol', meaning: 'the file is not a harmony-hpke-key file' },
  KEY_FILE_NEWER_VERSION: { family: 'key', scope: 'protocol', meaning: 'the key file has a newer format version than this program reads' },
  KEY_FILE_KEY_MISMATCH: { family: 'key', scope: 'protocol', meaning: 'the key file public key does not belong to its private key' },
  REQUEST_MALFORMED: { family: 'usage', scope: 'protocol', meaning: 'the sealed request body is too short to hold hdr, enc and ct (400)' },
  REQUEST_SUITE_UNSUPPORTED: { family: 'key', scope: 'protocol', meaning: 'the request header names a suite the router key does not offer (422)' },
  REQUEST_KEY_UNKNOWN: { family: 'key', scope: 'protocol', meaning: 'the request header names a key id the router does not hold (422)' },
  REQUEST_OPEN_FAILED: { family: 'integrity', scope: 'protocol', meaning: 'the sealed request does not open with the router key (422)' },
  REQUEST_PAYLOAD_INVALID: { family: 'usage', scope: 'protocol', meaning: 'the request plaintext is not padded JSON with the required fields' },
  REQUEST_VERSION_UNSUPPORTED: { family: 'usage', scope: 'protocol', meaning: 'the request plaintext has a "v" other than 1' },
  KEY_SCHEDULE_INPUT_INVALID: { family: 'usage', scope: 'protocol', meaning: 'secret, enc or response nonce has the wrong length' },
  CHUNK_INDEX_INVALID: { family: 'usage', scope: 'protocol', meaning: 'a chunk index is not a non-negative safe integer' },
  CHUNK_TOO_LARGE: { family: 'usage', scope: 'protocol', meaning: 'a chunk plaintext would exceed 16384 bytes' },
  CHUNK_MESSAGE_INVALID: { family: 'usage', scope: 'protocol', meaning: 'a chunk message to be sealed does not match its type' },
  SEALER_FINISHED: { family: 'usage', scope: 'protocol', meaning: 'a response sealer was used after its final chunk' },
  LINE_TOO_LONG: { family: 'integrity', scope: 'protocol', meaning: 'an SSE line exceeds the decoder line limit' },
  EVENT_TOO_LARGE: { family: 'integrity', scope: 'protocol', meaning: 'an SSE event buffers more data than the decoder allows' },
  SSE_NOT_UTF8: { family: 'integrity', scope: 'protocol', meaning: 'the SSE bytes are not valid UTF-8' },
  UNEXPECTED_EVENT: { family: 'integrity', scope: 'protocol', meaning: 'an SSE event type other than hpke, chunk, final or error' },
  MISSING_HPKE_EVENT: { family: 'integrity', scope: 'protocol', meaning: 'a chunk arrived before the hpke event' },
  DUPLICATE_HPKE_EVENT: { family: 'integrity', scope: 'protocol', meaning: 'a second hpke event arrived' },
  MALFORMED_HPKE_EVENT: { family: 'integrity', scope: 'protocol', meaning: 'the hpke event data is not the required JSON' },
  RESPONSE_VERSION_UNSUPPORTED: { family: 'integrity', scope: 'protocol', meaning: 'the hpke event has a "v" other than 1' },
  HPKE_HEADER_MISMATCH: { family: 'integrity', scope: 'protocol', meaning: 'the hpke event names another key id or suite than the session' },
  SECOND_RESPONSE: { family: 'integrity', scope: 'protocol', meaning: 'the response nonce differs from the one already decoded with this session' },
  MALFORMED_EVENT: { family: 'integrity', scope: 'protocol', meaning: 'a chunk or final event has a missing or non-canonical id, or data that is not base64url' },
  STREAM_NOT_FOR_SESSION: { family: 'integrity', scope: 'protocol', meaning: 'the first chunk does not authenticate with this session (another request, or tampered)' },
  CHUNK_AUTH_FAILED: { family: 'integrity', scope: 'protocol', meaning: 'a chunk does not authenticate (tampered)' },
  CHUNK_OUT_OF_ORDER: { family: 'integrity', scope: 'protocol', meaning: 'chunks arrived out of order (reordered)' },
  CHUNK_MISSING: { family: 'integrity', scope: 'protocol', meaning: 'a chunk index was skipped (dropped chunk)' },
  CHUNK_DUPLICATE: { family: 'integrity', scope: 'protocol', meaning: 'a chunk index arrived a second time (duplicated chunk)' },
  CHUNK_RELABELLED_FINAL: { family: 'integrity', scope: 'protocol', meaning: 'a non-final chunk was sent as the final event' },
  FINAL_RELABELLED_CHUNK: { family: 'integrity', scope: 'protocol', meaning: 'the final chunk was sent as an ordinary chunk event' },
  DATA_AFTER_FINAL: { family: 'integrity', scope: 'protocol', meaning: 'an event arrived after the verified final chunk' },
  MALFORMED_CHUNK: { family: 'integrity', scope: 'protocol', meaning: 'an authenticated chunk plaintext is not padded JSON of a known shape' },
  UNKNOWN_CHUNK_TYPE: { family: 'integrity', scope: 'protocol', meaning: 'an authenticated chunk has an unknown "t"' },
  UNEXPECTED_CHUNK_TYPE: { family: 'integrity', scope: 'protocol', meaning: 'a chunk type is not allowed at its position (start first, end/error last)' },
  RID_MISMATCH: { family: 'integrity', scope: 'protocol', meaning: 'the start chunk names another request id than the session' },
  STREAM_TRUNCATED: { family: 'truncated', scope: 'protocol', meaning: 'the stream ended without a verified final chunk' },
  DECODER_INTERNAL: { family: 'internal', scope: 'protocol', meaning: 'the stream decoder failed unexpectedly (a bug)' },
  DECODER_OPTIONS_INVALID: { family: 'usage', scope: 'protocol', meaning: 'a decoder option is out of range' },
  DECODER_CLOSED: { family: 'usage', scope: 'protocol', meaning: 'input was pushed into a decoder after end() or after it failed' },
  BUFFER_LIMIT: { family: 'usage', scope: 'protocol', meaning: 'with buffer, the answer held before the final chunk is larger than maxBufferedChars' },
  CRYPTO_BACKEND_MISSING: { family: 'internal', scope: 'protocol', meaning: 'no crypto backend is installed (outside Node.js, call setCryptoBackend first)' },
  ROUTER_ERROR: { family: 'router', scope: 'protocol', meaning: "the router's authenticated error chunk (its own code is in routerCode)" },
  SESSION_CORRUPT: { family: 'usage', scope: 'protocol', meaning: 'the session file is not a JSON object' },
  SESSION_FIELD_INVALID: { family: 'usage', scope: 'protocol', meaning: 'a session file field is missing or invalid' },
  SESSION_WRONG_FORMAT: { family: 'usage', scope: 'protocol', meaning: 'the file is not a harmony-hpke-session file' },
  SESSION_NEWER_VERSION: { family: 'usage', scope: 'protocol', meaning: 'the session file has a newer format version than this program reads' },
  // ---- harmony: src/harmony ----
  HARMONY_INVALID_TOKEN: { family: 'harmony', scope: 'harmony', meaning: 'a token id that is neither a BPE rank nor a special token' },
  HARMONY_INVALID_UTF8: { family: 'harmony', scope: 'harmony', meaning: 'tokens decode to bytes that are not UTF-8 (decodeUtf8 only)' },
  HARMONY_UNEXPECTED_TOKEN: { family: 'harmony', scope: 'harmony', meaning: 'the parser expected <|start|> and got something else' },
  HARMONY_UNEXPECTED_EOS: { family: 'harmony', scope: 'harmony', meaning: 'the stream ended inside a message header' },
  HARMONY_MALFORMED_HEADER: { family: 'harmony', scope: 'harmony', meaning: 'a header that cannot be parsed (missing role or channel value, leftover words, bad UTF-8)' },
  HARMONY_UNKNOWN_CHANNEL: { family: 'harmony', scope: 'harmony', meaning: 'a header naming a channel outside ParseOptions.validChannels (strict mode)' },
  HARMONY_UNKNOWN_ROLE: { family: 'harmony', scope: 'harmony', meaning: 'a header whose role is unknown and that names no recipient' },
  HARMONY_DISALLOWED_SPECIAL_TOKEN: { family: 'usage', scope: 'harmony', meaning: 'encode() met a special token that was not allowed' },
  HARMONY_INVALID_MESSAGE: { family: 'usage', scope: 'harmony', meaning: 'a message that cannot be rendered (tool without name, system content outside a system message...)' },
  HARMONY_INVALID_JSON: { family: 'usage', scope: 'harmony', meaning: "JSON that is not a conversation or message in openai-harmony's shape" },
  HARMONY_UNKNOWN_ENCODING: { family: 'usage', scope: 'harmony', meaning: 'loadHarmonyEncoding() with a name other than HarmonyGptOss' },
  HARMONY_RANKS_UNAVAILABLE: { family: 'internal', scope: 'harmony', meaning: "gpt-tokenizer's rank table cannot be loaded (a broken install)" },

  // ---- client: the client and the CLI ----
  INTERNAL: { family: 'internal', scope: 'client', meaning: 'an unexpected failure (a bug): the CLI reports it with this code' },
  USAGE_MISSING_COMMAND: { family: 'usage', scope: 'client', meaning: 'no command given' },
  USAGE_UNKNOWN_COMMAND: { family: 'usage', scope: 'client', meaning: 'an unknown command (from commander)' },
  USAGE_UNKNOWN_OPTION: { family: 'usage', scope: 'client', meaning: 'an unknown flag (from commander)' },
  USAGE_MISSING_ARGUMENT: { family: 'usage', scope: 'client', meaning: 'a required argument is missing (from commander)' },
  USAGE_OPTION_MISSING_ARGUMENT: { family: 'usage', scope: 'client', meaning: 'a flag needs a value (from commander)' },
  USAGE_MISSING_MANDATORY_OPTION_VALUE: { family: 'usage', scope: 'client', meaning: 'a mandatory flag is missing (from commander)' },
  USAGE_CONFLICTING_OPTION: { family: 'usage', scope: 'client', meaning: 'two flags that exclude each other (from commander)' },
  USAGE_EXCESS_ARGUMENTS: { family: 'usage', scope: 'client', meaning: 'more arguments than the command takes (from commander)' },
  USAGE_INVALID_ARGUMENT: { family: 'usage', scope: 'client', meaning: 'a flag or argument value is invalid (from commander)' },
  USAGE_ERROR: { family: 'usage', scope: 'client', meaning: 'another command-line error (from commander)' },
  USAGE_BAD_BUILTIN: { family: 'usage', scope: 'client', meaning: '--builtin names an unknown built-in tool' },
  USAGE_BAD_FLAGS: { family: 'usage', scope: 'client', meaning: 'flags that need another flag (e.g. --expect-args without --expect-tool-call)' },
  USAGE_BAD_REGEX: { family: 'usage', scope: 'client', meaning: 'a flag is not a valid regular expression' },
  USAGE_KEY_ID: { family: 'usage', scope: 'client', meaning: '--key-id is not 0..255' },
  USAGE_NEEDS_DECODE: { family: 'usage', scope: 'client', meaning: 'send: --raw, --json, --show and --buffer need --decode' },
  USAGE_SHELL: { family: 'usage', scope: 'client', meaning: 'completion: an unsupported shell' },
  USAGE_TOKEN_NAME: { family: 'usage', scope: 'client', meaning: 'keys api-token: --name is not a valid token name' },
  USAGE_UNKNOWN_TOPIC: { family: 'usage', scope: 'client', meaning: 'help: no such command or topic' },
  BAD_URL: { family: 'usage', scope: 'client', meaning: 'a router URL is not a valid http: or https: URL' },
  CONFIG_INVALID: { family: 'usage', scope: 'client', meaning: 'the config file is not valid JSON or a profile or setting is invalid' },
  CONFIG_NO_PROFILE: { family: 'usage', scope: 'client', meaning: 'the config file has no profile of that name' },
  CONFIG_PERMISSIONS: { family: 'key', scope: 'client', meaning: 'the config file holds an API token and others can read it' },
  CONFIG_UNREADABLE: { family: 'usage', scope: 'client', meaning: 'the config file cannot be read' },
  ENV_INVALID: { family: 'usage', scope: 'client', meaning: 'a HARMONY_HPKE_* environment variable has an invalid value' },
  CONVERSATION_INVALID: { family: 'usage', scope: 'client', meaning: 'the conversation file is not an openai-harmony conversation' },
  CONVERSATION_NOT_FOUND: { family: 'usage', scope: 'client', meaning: 'the conversation file does not exist' },
  CONVERSATION_UNREADABLE: { family: 'usage', scope: 'client', meaning: 'the conversation file cannot be read' },
  EMPTY_PROMPT: { family: 'usage', scope: 'client', meaning: 'the prompt is empty' },
  NO_PROMPT: { family: 'usage', scope: 'client', meaning: 'no prompt argument, stdin or --conversation' },
  ENVELOPE_INVALID: { family: 'usage', scope: 'client', meaning: 'the input is not a JSON envelope from create-request' },
  INPUT_TOO_LARGE: { family: 'usage', scope: 'client', meaning: 'standard input is larger than the command reads' },
  INPUT_NOT_FOUND: { family: 'usage', scope: 'client', meaning: 'an input file does not exist' },
  INPUT_UNREADABLE: { family: 'usage', scope: 'client', meaning: 'an input file cannot be read' },
  NO_INPUT: { family: 'usage', scope: 'client', meaning: 'no input file, no "-" and nothing piped in' },
  INSPECT_UNKNOWN: { family: 'usage', scope: 'client', meaning: 'inspect: the file is not one of the formats it knows' },
  NOT_AN_SSE_STREAM: { family: 'usage', scope: 'client', meaning: 'decode: the input is not an SSE response' },
  NO_MATCHING_SESSION: { family: 'usage', scope: 'client', meaning: 'decode: no stored session opens this stream' },
  NO_SESSION: { family: 'usage', scope: 'client', meaning: 'send: the envelope names no session file' },
  NO_ROUTER: { family: 'usage', scope: 'client', meaning: 'no router URL (--router, HARMONY_HPKE_ROUTER or a profile)' },
  SAVE_WOULD_OVERWRITE: { family: 'usage', scope: 'client', meaning: 'ask --save would overwrite the conversation file it read' },
  SESSION_NOT_FOUND: { family: 'usage', scope: 'client', meaning: 'the session file does not exist' },
  SESSION_UNREADABLE: { family: 'usage', scope: 'client', meaning: 'the session file cannot be read' },
  SESSION_FILE_PERMISSIONS: { family: 'key', scope: 'client', meaning: 'the session file is readable by others (it holds a secret)' },
  TOOLS_INVALID: { family: 'usage', scope: 'client', meaning: 'the tools file is not a valid list of tools' },
  TOOLS_NOT_FOUND: { family: 'usage', scope: 'client', meaning: 'the tools file does not exist' },
  TOOLS_UNREADABLE: { family: 'usage', scope: 'client', meaning: 'the tools file cannot be read' },
  PIN_STORE_INVALID: { family: 'usage', scope: 'client', meaning: 'the pin store is corrupt' },
  PIN_STORE_LOCK: { family: 'usage', scope: 'client', meaning: 'the pin store cannot be locked' },
  KEYS_FILE_NOT_FOUND: { family: 'usage', scope: 'client', meaning: 'the --keys file does not exist' },
  KEYS_FILE_UNREADABLE: { family: 'usage', scope: 'client', meaning: 'the --keys file cannot be read' },
  WRITE_FAILED: { family: 'usage', scope: 'client', meaning: 'a file cannot be written (atomic write failed)' },
  FILE_EXISTS: { family: 'usage', scope: 'client', meaning: 'the file to write exists (pass --force to replace it)' },
  TOOL_EXEC_FAILED: { family: 'usage', scope: 'client', meaning: '--tool-exec: the command cannot run or failed' },
  TOOL_EXEC_TIMEOUT: { family: 'usage', scope: 'client', meaning: '--tool-exec: the command did not finish in time (killed)' },
  TOOL_EXEC_OUTPUT_TOO_LARGE: { family: 'usage', scope: 'client', meaning: '--tool-exec: the command wrote too much (killed)' },
  TOOL_EXEC_ABORTED: { family: 'usage', scope: 'client', meaning: '--tool-exec: the command was interrupted' },
  CONNECTION_REFUSED: { family: 'network', scope: 'client', meaning: 'the router refused the connection' },
  CONNECTION_RESET: { family: 'network', scope: 'client', meaning: 'the connection to the router was reset' },
  CONNECT_TIMEOUT: { family: 'network', scope: 'client', meaning: 'connecting to the router timed out' },
  HOST_NOT_FOUND: { family: 'network', scope: 'client', meaning: "the router's host name does not resolve" },
  NETWORK_ERROR: { family: 'network', scope: 'client', meaning: 'another network failure' },
  TIMEOUT: { family: 'network', scope: 'client', meaning: 'the request did not finish within the total timeout' },
  IDLE_TIMEOUT: { family: 'network', scope: 'client', meaning: 'no verified data from the router within the idle timeout' },
  RESPONSE_TOO_LARGE: { family: 'network', scope: 'client', meaning: 'a router answer is larger than the client reads' },
  KEY_CONFIG_MEDIA_TYPE: { family: 'key', scope: 'client', meaning: 'the key endpoint did not answer application/ohttp-keys' },
  PIN_MISMATCH: { family: 'key', scope: 'client', meaning: "the router's key does not match the pinned fingerprint" },
  ROUTER_KEY_REJECTED: { family: 'key', scope: 'client', meaning: 'the router rejected the request key twice (422 after a re-seal)' },
  ROUTER_REFUSED: { family: 'refused', scope: 'client', meaning: 'the router answered an HTTP error before the stream' },
  ROUTER_BUSY: { family: 'refused', scope: 'client', meaning: 'the router answered 429 or 503 (busy)' },
  API_TOKEN_REFUSED: { family: 'auth', scope: 'client', meaning: 'the router wants an API token or refused the one given (401)' },
  REPLAY_REFUSED: { family: 'integrity', scope: 'client', meaning: 'the router refused the request as a replay' },
  ERROR_EVENT_FLOOD: { family: 'integrity', scope: 'client', meaning: 'the router sent too many unauthenticated error events' },
  HARMONY_PARSE_FAILED: { family: 'harmony', scope: 'client', meaning: 'the completion cannot be parsed as Harmony (strict mode)' },
  NO_FINAL_CHANNEL: { family: 'harmony', scope: 'client', meaning: 'smoke: the answer has no final channel message' },
  UNEXPECTED_ANSWER: { family: 'check', scope: 'client', meaning: 'smoke: the answer does not match --expect' },
  UNEXPECTED_FINISH: { family: 'check', scope: 'client', meaning: 'smoke: the answer ended with another finish than stop' },
  TOOL_CALL_MISSING: { family: 'check', scope: 'client', meaning: 'smoke: the answer is not the expected tool call' },
  TOOL_CALL_MISMATCH: { family: 'check', scope: 'client', meaning: 'smoke: the answer calls another tool than expected' },
  TOOL_CALL_NOT_ENDED: { family: 'check', scope: 'client', meaning: 'smoke: the tool call did not end the turn with <|call|>' },
  TOOL_ARGS_INVALID: { family: 'check', scope: 'client', meaning: 'smoke: the tool call arguments are not JSON' },
  TOOL_ARGS_MISMATCH: { family: 'check', scope: 'client', meaning: 'smoke: the tool call arguments do not match --expect-args' },
  ANSWER_CANCELLED: { family: 'incomplete', scope: 'client', meaning: 'the router stopped the answer before it finished (finish cancelled or missing)' },
  ANSWER_CUT_AT_LENGTH: { family: 'incomplete', alsoFamily: 'check', scope: 'client', meaning: 'the answer was cut at the token limit (exit 11 with --strict, 10 in smoke)' },

  // ---- router: its configuration, files and listener ----
  ADDRESS_IN_USE: { family: 'network', scope: 'router', meaning: 'serve: the port is already in use' },
  LISTEN_ADDRESS: { family: 'network', scope: 'router', meaning: 'serve: no such address on this host' },
  LISTEN_DENIED: { family: 'network', scope: 'router', meaning: 'serve: permission denied to listen on that port' },
  READY_FILE_UNWRITABLE: { family: 'usage', scope: 'router', meaning: 'serve: the --ready-file cannot be written' },
  USAGE_FAULT: { family: 'usage', scope: 'router', meaning: 'serve: an unknown --fault' },
  USAGE_HARMONY: { family: 'usage', scope: 'router', meaning: 'serve: --harmony off with an upstream that cannot take it' },
  USAGE_UPSTREAM: { family: 'usage', scope: 'router', meaning: 'serve: upstream flags that need --upstream' },
  USAGE_REPLAY_STORE: { family: 'usage', scope: 'router', meaning: 'serve: --replay-store is not a redis:// URL' },
  USAGE_SETTING: { family: 'usage', scope: 'router', meaning: 'a router setting is not a boolean' },
  ROUTER_CONFIG_INVALID: { family: 'usage', scope: 'router', meaning: 'the router config file is not valid JSON or a setting is invalid' },
  ROUTER_CONFIG_NOT_FOUND: { family: 'usage', scope: 'router', meaning: 'the router config file does not exist' },
  ROUTER_CONFIG_UNREADABLE: { family: 'usage', scope: 'router', meaning: 'the router config file cannot be read' },
  KEY_FILE_NOT_FOUND: { family: 'usage', scope: 'router', meaning: 'the router key file does not exist' },
  KEY_FILE_UNREADABLE: { family: 'usage', scope: 'router', meaning: 'the router key file cannot be read' },
  KEY_FILE_PERMISSIONS: { family: 'key', scope: 'router', meaning: 'the router key file is readable by others' },
  NO_ROUTER_KEY: { family: 'usage', scope: 'router', meaning: 'the router has no key' },
  DUPLICATE_KEY_ID: { family: 'usage', scope: 'router', meaning: 'two router keys share a key id' },
  API_TOKENS_INVALID: { family: 'usage', scope: 'router', meaning: 'the API token file is malformed' },
  API_TOKENS_NOT_FOUND: { family: 'usage', scope: 'router', meaning: 'the API token file does not exist' },
  API_TOKENS_UNREADABLE: { family: 'usage', scope: 'router', meaning: 'the API token file cannot be read' },
  API_TOKENS_PERMISSIONS: { family: 'key', scope: 'router', meaning: 'the API token file is readable by others' },
  API_TOKEN_NAME_TAKEN: { family: 'usage', scope: 'router', meaning: 'keys api-token: the file already has a token of that name' },

  // ---- engine: reported in the router's authenticated error chunk (ROUTER_ERROR on the client) ----
  UPSTREAM_UNREACHABLE: { family: 'router', scope: 'engine', meaning: 'connection refused, DNS or TLS failure: no HTTP answer from the upstream' },
  UPSTREAM_HTTP_STATUS: { family: 'router', scope: 'engine', meaning: 'the upstream answered with a non-2xx status' },
  UPSTREAM_BAD_STREAM: { family: 'router', scope: 'engine', meaning: 'an upstream event could not be parsed or had an unexpected shape' },
  UPSTREAM_STREAM_ERROR: { family: 'router', scope: 'engine', meaning: 'the upstream reported an error inside the stream' },
  UPSTREAM_TRUNCATED: { family: 'router', scope: 'engine', meaning: 'the upstream stream ended (or dropped) before a finish reason' },
  UPSTREAM_TIMEOUT: { family: 'router', scope: 'engine', meaning: 'no upstream headers or body bytes within the idle timeout' },
  UPSTREAM_CONFIG: { family: 'router', scope: 'engine', meaning: 'the upstream kind, URL or timeout is invalid' },
  CANCELLED: { family: 'router', scope: 'engine', meaning: "the request's signal was aborted (client gone, shutdown)" },
  ENGINE_FAULT: { family: 'router', scope: 'engine', meaning: 'an injected engine fault (test faults only)' },
  FAULT_DISCONNECT: { family: 'router', scope: 'engine', meaning: 'an injected disconnect (test faults only)' },

  // ---- log: the router's request log only ----
  CLIENT_GONE: { family: 'router', scope: 'log', meaning: 'the client went away before the stream ended' },
  WRITE_TIMEOUT: { family: 'router', scope: 'log', meaning: 'the client did not read the stream within the write timeout' },
  LIMIT_RATE: { family: 'router', scope: 'log', meaning: "an API token's request rate limit refused the request (429)" },
  LIMIT_STREAMS: { family: 'router', scope: 'log', meaning: "an API token's concurrent stream limit refused the request (429)" },
  REPLAY_STORE_FULL: { family: 'router', scope: 'log', meaning: 'the replay store cannot record a request without dropping a live one (503)' },
  REPLAY_STORE_UNAVAILABLE: { family: 'router', scope: 'log', meaning: 'the replay store is unreachable (503)' },
} as const satisfies Record<string, ErrorCodeInfo>;

/** Every error code. */
export type ErrorCode = keyof typeof ERROR_CODES;

type Registry = typeof ERROR_CODES;
type FamiliesOf<C extends ErrorCode> =
  | Registry[C]['family']
  | (Registry[C] extends { readonly alsoFamily: infer A } ? A : never);

/** The codes of one family: what the family's error class accepts. */
export type CodeOf<F extends ErrorFamily> = { [C in ErrorCode]: F extends FamiliesOf<C> ? C : never }[ErrorCode];

/** The codes of one scope. */
export type CodeIn<S extends ErrorScope> = { [C in ErrorCode]: Registry[C]['scope'] extends S ? C : never }[ErrorCode];

/** Prefixes P with both P_NOT_FOUND and P_UNREADABLE registered (for fileReadError). */
export type FileErrorPrefix = {
  [C in ErrorCode]: C extends `${infer P}_NOT_FOUND` ? (`${P}_UNREADABLE` extends ErrorCode ? P : never) : never;
}[ErrorCode];

const REGISTRY: Readonly<Record<string, ErrorCodeInfo>> = ERROR_CODES;

export function isErrorCode(code: unknown): code is ErrorCode {
  return typeof code === 'string' && Object.prototype.hasOwnProperty.call(REGISTRY, code);
}

/** The registry entry of a code, or undefined for a string that is not a code. */
export function errorCodeInfo(code: string): ErrorCodeInfo | undefined {
  return isErrorCode(code) ? REGISTRY[code] : undefined;
}

/** The (first) family of a code. */
export function familyOf(code: ErrorCode): ErrorFamily {
  // An unregistered string (possible only from untyped callers) is a bug of theirs: internal.
  return REGISTRY[code]?.family ?? 'internal';
}

export interface ErrorCodeEntry extends ErrorCodeInfo {
  readonly code: ErrorCode;
}

/** The registry as rows, in table order, optionally of one scope. */
export function errorCodeEntries(scope?: ErrorScope): ErrorCodeEntry[] {
  const rows: ErrorCodeEntry[] = [];
  for (const code of Object.keys(REGISTRY) as ErrorCode[]) {
    const info = REGISTRY[code]!;
    if (scope === undefined || info.scope === scope) rows.push(Object.freeze({ code, ...info }));
  }
  return rows;
}
