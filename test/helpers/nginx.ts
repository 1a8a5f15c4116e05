/**
 * A real nginx load balancer in front of router replicas: round-robin over loopback upstreams,
 * configuration generated into a temp directory, run in the foreground (`daemon off`) with its
 * own pid, log and temp paths there, stopped with SIGQUIT (then SIGKILL).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { freePort } from './external.js';
import { waitFor } from './wait.js';

export interface Nginx {
  readonly url: string;
  readonly port: number;
  readonly configPath: string;
  /** The access log so far (one line per request: upstream address and status). */
  accessLog(): string;
  stop(): Promise<void>;
}

/** The nginx.conf for a streaming (SSE) round-robin balancer; also what docs/router.md shows. */
export function nginxConfig(dir: string, port: number, upstreams: readonly string[]): string {
  return `daemon off;
worker_processes 1;
pid ${join(dir, 'nginx.pid')};
error_log ${join(dir, 'error.log')} warn;
events { worker_connections 256; }
http {
  client_body_temp_path ${join(dir, 'body')};
  proxy_temp_path ${join(dir, 'proxy')};
  fastcgi_temp_path ${join(dir, 'fastcgi')};
  uwsgi_temp_path ${join(dir, 'uwsgi')};
  scgi_temp_path ${join(dir, 'scgi')};
  log_format combined_upstream '$request $status upstream=$upstream_addr';
  access_log ${join(dir, 'access.log')} combined_upstream;
  upstream harmony_routers {
${upstreams.map((address) => `    server ${address} max_fails=1 fail_timeout=2s;`).join('\n')}
    keepalive 16;
  }
  server {
    listen 127.0.0.1:${port};
    client_max_body_size 2m;
    location / {
      proxy_pass http://harmony_routers;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_buffering off;
      proxy_request_buffering on;
      proxy_read_timeout 300s;
      # A sealed request may be sent once: never retry a POST on another replica.
      proxy_next_upstream error timeout;
      proxy_next_upstream_tries 2;
    }
  }
}
`;
}

export async function startNginx(program: string, dir: string, upstreams: readonly string[]): Promise<Nginx> {
  mkdirSync(dir, { recursive: true });
  const port = await freePort();
  const configPath = join(dir, 'nginx.conf');
  writeFileSync(configPath, nginxConfig(dir, port, upstreams));
  const child: ChildProcess = spawn(program, ['-p', dir, '-c', configPath, '-e', join(dir, 'error.log')], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout?.on('data', (part: Buffer) => (output += part.toString()));
  child.stderr?.on('data', (part: Buffer) => (output += part.toString()));
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const failed = exited.then(() => {
    throw new Error(`nginx exited ${child.exitCode}: ${output}`);
  });
  failed.catch(() => {});
  await Promise.race([
    failed,
    waitFor(async () => {
      const response = await fetch(`http://127.0.0.1:${port}/healthz`).catch(() => undefined);
      return response !== undefined;
    }, `nginx on port ${port}`),
  ]);
  const { readFileSync } = await import('node:fs');
  return {
    url: `http://127.0.0.1:${port}`,
    port,
    configPath,
    accessLog: () => {
      try {
        return readFileSync(join(dir, 'access.log'), 'utf8');
      } catch {
        return '';
      }
    },
    stop: async () => {
      if (child.exitCode !== null || child.signalCode !== null) return;
      child.kill('SIGQUIT');
      const timer = setTimeout(() => child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(timer);
    },
  };
}
