/**
 * The health endpoint for Kubernetes (and any load balancer): `primary.listenHealth()`.
 *
 * - `GET /healthz`: 200 while the primary's event loop answers (liveness). A crashed worker
 *   does not fail it: the primary replaces workers itself.
 * - `GET /readyz`: 200 while at least `minReady` workers are ready and the primary is not
 *   shutting down; 503 from the moment shutdown begins, so traffic drains away first.
 * - `GET /metrics`: `primary.metrics()`, the Prometheus text exposition.
 *
 * It keeps answering during shutdown and closes when shutdown completes.
 */
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { loadHttp } from '../../builtins.js';
import { durationOption } from '../../duration.js';
import { repeatedHeader } from '../../repeated-header.js';
import { toError } from '../../to-error.js';
import { integerOption, knownOptions, portOption, stringOption } from '../../validate.js';
import { ShutdownInProgressError } from '../../errors.js';
import type { PrimaryState } from '../lifecycle/primary-lifecycle.js';
import type { PrimaryContext } from '../primary-context.js';
import { parseRequestTarget } from '../../request-target.js';
import { isLoopbackAddress, isLoopbackHost } from '../../host-header.js';

/** How long a client has to send its whole request, headers included (ms). */
const kRequestTimeoutMs = 10_000;

/**
 * Open connections at once (`server.maxConnections`); one more is closed as soon as it is
 * accepted. Probes and scrapes need a handful; without a bound, a client on the pod network
 * opening connections faster than the 10 s timeout closes them would run the primary out of
 * file descriptors, and with them its ability to fork a worker or accept `clusterkit` commands.
 */
export const kMaxHealthConnections = 128;

export interface HealthOptions {
  /** Port to listen on (0 for any free port). */
  port: number;
  /** Address to listen on. @default all interfaces */
  host?: string;
  /** Ready workers needed for `/readyz` to answer 200. @default 1 */
  minReady?: number;
  /** Time each worker has to answer a `/metrics` scrape. @default 2000 */
  metricsTimeoutMs?: number;
}

export interface HealthListener {
  readonly address: AddressInfo;
  close(): Promise<void>;
}

/** What the endpoint reads from the primary. */
export interface HealthSource {
  state(): PrimaryState;
  readyWorkers(): number;
  metrics(timeoutMs: number): Promise<string>;
}

/**
 * `primary.listenHealth()`: listens, and closes when shutdown completes. `metrics` serves
 * `/metrics` (`primary.metrics()`).
 */
export async function listenHealth(
  { lifecycle, pool }: Pick<PrimaryContext, 'lifecycle' | 'pool'>,
  metrics: (timeoutMs: number) => Promise<string>,
  input: HealthOptions,
): Promise<HealthListener> {
  if (lifecycle.state === 'stopped') throw new ShutdownInProgressError('The primary has shut down; listenHealth() is refused.');
  const source: HealthSource = { state: () => lifecycle.state, readyWorkers: () => pool.rotation.size, metrics };
  const options = knownOptions(input, ['port', 'host', 'minReady', 'metricsTimeoutMs'], 'listenHealth options');
  const port = portOption(options.port);
  const host = stringOption(options.host, 'host');
  const minReady = integerOption(options.minReady, 'minReady', 1, { min: 0 });
  const metricsTimeoutMs = durationOption(options.metricsTimeoutMs, 'metricsTimeoutMs', 2_000);
  // Probes and scrapes send no body and a few headers: a client trickling either is cut after
  // 10 s, not Node's 300 s (`requestTimeout`) and 60 s (`headersTimeout`).
  const server = loadHttp().createServer({ requestTimeout: kRequestTimeoutMs, headersTimeout: kRequestTimeoutMs, connectionsCheckingInterval: 1_000 }, (request, response) => {
    route(source, { minReady, metricsTimeoutMs, isLoopbackOnly }, request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
      response.end(`${toError(error).message}\n`);
    });
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.maxConnections = kMaxHealthConnections;
  // Bound to loopback, only this machine's processes may ask; a browser page of another site
  // that rebinds its DNS name to 127.0.0.1 could read /metrics, so its Host is refused. Bound
  // to a pod's address, any Host goes: the kubelet probes by IP.
  const isLoopbackOnly = isLoopbackAddress((server.address() as AddressInfo).address);
  let closing: Promise<void> | undefined;
  const listener: HealthListener = {
    address: server.address() as AddressInfo,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      })),
  };
  lifecycle.onShutdown('end', () => listener.close());
  return listener;
}

async function route(source: HealthSource, options: { minReady: number; metricsTimeoutMs: number; isLoopbackOnly: boolean }, request: IncomingMessage, response: ServerResponse): Promise<void> {
  // Parsed, not `new URL()`d: a malformed target is the client's mistake (400), not ours (500).
  const target = parseRequestTarget(request.url);
  if (target === undefined) {
    json(response, 400, { status: 'bad request', reason: 'malformed request target' });
    return;
  }
  if (repeatedHeader(request, ['Host']) !== undefined) {
    json(response, 400, { status: 'bad request', reason: 'more than one Host header' });
    return;
  }
  if (options.isLoopbackOnly && !(isLoopbackHost(request.headers.host) && (target.authority === undefined || isLoopbackHost(target.authority)))) {
    json(response, 403, { status: 'forbidden', reason: 'the endpoint listens on a loopback address: the Host must be localhost or a loopback address' });
    return;
  }
  const { path } = target;
  if (request.method !== 'GET' && request.method !== 'HEAD') {
    response.writeHead(405, { allow: 'GET, HEAD' }).end();
    return;
  }
  switch (path) {
    case '/healthz':
      json(response, 200, { status: 'ok', state: source.state() });
      return;
    case '/readyz': {
      const state = source.state();
      const ready = source.readyWorkers();
      const isReady = state === 'running' && ready >= options.minReady;
      const reason = state === 'stopping' || state === 'stopped' ? 'shutting down' : state !== 'running' ? 'starting' : isReady ? undefined : `${ready} of ${options.minReady} required workers ready`;
      json(response, isReady ? 200 : 503, { status: isReady ? 'ready' : 'not ready', readyWorkers: ready, minReady: options.minReady, ...(reason ? { reason } : {}) });
      return;
    }
    case '/metrics': {
      const text = await source.metrics(options.metricsTimeoutMs);
      response.writeHead(200, { 'content-type': 'text/plain; version=0.0.4; charset=utf-8' }).end(text);
      return;
    }
    default:
      json(response, 404, { status: 'not found', paths: ['/healthz', '/readyz', '/metrics'] });
  }
}

function json(response: ServerResponse, status: number, body: object): void {
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(`${JSON.stringify(body)}\n`);
}
