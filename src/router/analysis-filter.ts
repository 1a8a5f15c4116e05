/**
 * `--include-analysis false`: the router withholds every `analysis` message from the stream it
 * encrypts, so reasoning never leaves the router. Works on completion token ids (the engine's
 * output after the prompt's `<|start|>assistant`): each message's header is held until its
 * `<|message|>`, then the message is forwarded or dropped whole, through its `<|end|>`.
 *
 * What is forwarded is still well-formed Harmony for the client's parser: when the withheld
 * message was the first (whose `<|start|>assistant` is in the prompt), the next forwarded
 * message's own `<|start|>assistant` is dropped too, so the client sees it as the first message.
 * The stream's start chunk says `"analysis":"withheld"`, authenticated like everything else.
 */
import { specialTokenId } from '../harmony/registry.js';
import { harmonyEncoding } from './render.js';

const decodeUtf8 = (ids: readonly number[]): string => harmonyEncoding().decodeUtf8(ids);

function id(text: string): number {
  const value = specialTokenId(text);
  if (value === undefined) throw new Error(`no special token ${text}`);
  return value;
}

type State = 'header' | 'body' | 'drop' | 'between';

export class AnalysisFilter {
  private readonly start = id('<|start|>');
  private readonly message = id('<|message|>');
  private readonly end = id('<|end|>');
  private readonly stops = new Set([id('<|return|>'), id('<|call|>')]);
  private state: State = 'header';
  private header: number[] = [];
  /** True until a message has been forwarded: then the prompt's `<|start|>assistant` still opens it. */
  private implicitStart = true;
  withheldTokens = 0;

  /** The ids of `ids` that may leave the router, in order. */
  push(ids: readonly number[]): number[] {
    const out: number[] = [];
    for (const token of ids) {
      switch (this.state) {
        case 'between':
          if (token === this.start) {
            this.header = [token];
            this.state = 'header';
          } else {
            // Not Harmony between messages: pass it on and let the client's parser judge it.
            out.push(token);
          }
          break;
        case 'header':
          this.header.push(token);
          if (token === this.message) this.decide(out);
          else if (this.header.length > 256) {
            // A header this long is not one the model writes; forward it rather than hold it forever.
            out.push(...this.header);
            this.header = [];
            this.state = 'body';
            this.implicitStart = false;
          }
          break;
        case 'body':
          out.push(token);
          if (token === this.end) this.state = 'between';
          break;
        case 'drop':
          this.withheldTokens += 1;
          if (token === this.end) this.state = 'between';
          else if (this.stops.has(token)) this.state = 'between';
          break;
      }
    }
    return out;
  }

  /** Header tokens still held at the end of the stream (a truncated header): forwarded as they are. */
  flush(): number[] {
    const held = this.state === 'header' ? this.header : [];
    this.header = [];
    return held;
  }

  private decide(out: number[]): void {
    const header = this.header;
    this.header = [];
    const text = decodeUtf8(header);
    const channel = /<\|channel\|>\s*([^\s<]+)/.exec(text)?.[1];
    if (channel === 'analysis') {
      this.withheldTokens += header.length;
      this.state = 'drop';
      return;
    }
    this.state = 'body';
    if (this.implicitStart) {
      this.implicitStart = false;
      if (header[0] === this.start) {
        // `<|start|>assistant` of a message that now comes first: the prompt already opened it.
        const at = header.findIndex((token, index) => index > 0 && /^[^a-z]/i.test(decodeUtf8([token])));
        const roleEnd = at > 0 ? at : 1;
        const role = decodeUtf8(header.slice(1, roleEnd)).trim();
        if (role === 'assistant') {
          out.push(...header.slice(roleEnd));
          return;
        }
      }
    }
    out.push(...header);
  }
}
