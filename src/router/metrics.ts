/**
 * Prometheus metrics for the router (prom-client), served on their own listener
 * (`serve --metrics-port`, loopback by default) at GET /metrics.
 *
 * Labels are small closed sets (outcome, status, kind, reason) plus the API token's *name* from the
 * operator's token file; no label ever carries plaintext, a token value, a request id or a key.
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

export type RequestOutcome = 'stop' | 'length' | 'tool_call' | 'cancelled' | 'error' | 'client_gone' | 'refused';
export type AuthRefusalReason = 'missing' | 'unknown' | 'disabled' | 'streams' | 'rate';

export class RouterMetrics {
  readonly registry = new Registry();
  private readonly requests: Counter<'outcome' | 'status'>;
  private readonly activeStreams: Gauge;
  private readonly chunks: Counter;
  private readonly tokens: Counter;
  private readonly openSeconds: Histogram;
  private readonly firstChunkSeconds: Histogram;
  private readonly upstreamErrors: Counter<'kind'>;
  private readonly replaySeconds: Histogram<'outcome'>;
  private readonly replayFailures: Counter;
  private readonly authRefusals: Counter<'reason'>;
  private readonly tokenRequests: Counter<'token' | 'outcome'>;
  private readonly reloads: Counter<'result'>;

  constructor(options: { defaultMetrics?: boolean } = {}) {
    const registers = [this.registry];
    this.requests = new Counter({
      name: 'harmony_hpke_requests_total',
      help: 'Stream requests by outcome (finish reason, error, client_gone, refused) and HTTP status',
      labelNames: ['outcome', 'status'],
      registers,
    });
    this.activeStreams = new Gauge({ name: 'harmony_hpke_active_streams', help: 'Streams open now', registers });
    this.chunks = new Counter({ name: 'harmony_hpke_chunks_streamed_total', help: 'Encrypted chunks written', registers });
    this.tokens = new Counter({ name: 'harmony_hpke_tokens_streamed_total', help: 'Completion tokens streamed', registers });
    this.openSeconds = new Histogram({
      name: 'harmony_hpke_open_seconds',
      help: 'HPKE open (decapsulation and decryption) of a sealed request',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.firstChunkSeconds = new Histogram({
      name: 'harmony_hpke_time_to_first_chunk_seconds',
      help: 'From request arrival to the first token chunk written',
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.upstreamErrors = new Counter({
      name: 'harmony_hpke_upstream_errors_total',
      help: 'Streams that ended with an engine or upstream error, by error code',
      labelNames: ['kind'],
      registers,
    });
    this.replaySeconds = new Histogram({
      name: 'harmony_hpke_replay_store_seconds',
      help: 'Replay store call latency by outcome',
      labelNames: ['outcome'],
      buckets: LATENCY_BUCKETS,
      registers,
    });
    this.replayFailures = new Counter({
      name: 'harmony_hpke_replay_store_failures_total',
      help: 'Replay store calls that failed or timed out (each answered 503)',
      registers,
    });
    this.authRefusals = new Counter({
      name: 'harmony_hpke_auth_refusals_total',
      help: 'Requests refused by client authentication (401) or per-token limits (429), by reason',
      labelNames: ['reason'],
      registers,
    });
    this.tokenRequests = new Counter({
      name: 'harmony_hpke_token_requests_total',
      help: 'Authenticated requests by API token name and outcome (accepted, limited)',
      labelNames: ['token', 'outcome'],
      registers,
    });
    this.reloads = new Counter({
      name: 'harmony_hpke_reloads_total',
      help: 'SIGHUP reloads of key files and API tokens by result',
      labelNames: ['result'],
      registers,
    });
    if (options.defaultMetrics ?? true) collectDefaultMetrics({ register: this.registry, prefix: 'harmony_hpke_process_' });
  }

  request(outcome: RequestOutcome, status: number): void {
    this.requests.inc({ outcome, status: String(status) });
  }

  streamOpened(): void {
    this.activeStreams.inc();
  }

  streamClosed(): void {
    this.activeStreams.dec();
  }

  streamed(chunks: number, tokens: number): void {
    if (chunks > 0) this.chunks.inc(chunks);
    if (tokens > 0) this.tokens.inc(tokens);
  }

  opened(seconds: number): void {
    this.openSeconds.observe(seconds);
  }

  firstChunk(seconds: number): void {
    this.firstChunkSeconds.observe(seconds);
  }

  upstreamError(kind: string): void {
    // Error codes are the router's own short identifiers; cap the length all the same.
    this.upstreamErrors.inc({ kind: kind.replace(/[^a-z0-9_]/gi, '_').slice(0, 40) });
  }

  replayStore(outcome: 'ok' | 'error', seconds: number): void {
    this.replaySeconds.observe({ outcome }, seconds);
    if (outcome === 'error') this.replayFailures.inc();
  }

  authRefused(reason: AuthRefusalReason, tokenName?: string): void {
    this.authRefusals.inc({ reason });
    if (tokenName !== undefined) this.tokenRequests.inc({ token: tokenName, outcome: 'limited' });
  }

  tokenAccepted(tokenName: string): void {
    this.tokenRequests.inc({ token: tokenName, outcome: 'accepted' });
  }

  reloaded(result: 'ok' | 'failed'): void {
    this.reloads.inc({ result });
  }

  text(): Promise<string> {
    return this.registry.metrics();
  }
}

export interface MetricsListener {
  readonly url: string;
  close(): Promise<void>;
}

/** GET /metrics on its own listener; anything else is 404. */
export async function startMetricsListener(metrics: RouterMetrics, host: string, port: number): Promise<MetricsListener> {
  const server: Server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    metrics.text().then(
      (body) => {
        res.writeHead(200, { 'content-type': metrics.registry.contentType, 'cache-control': 'no-store' });
        res.end(req.method === 'HEAD' ? undefined : body);
      },
      () => res.writeHead(500).end(),
    );
  });
  server.keepAliveTimeout = 5_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const address = server.address() as AddressInfo;
  const hostForUrl = address.family === 'IPv6' ? `[${address.address}]` : address.address;
  return {
    url: `http://${hostForUrl}:${address.port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}
