/**
 * The dashboard's HTTP server, in the CLI process: the page and its files, a Server-Sent
 * Events stream of the cluster's figures and events, and (with `--allow-control`) reload and
 * scale. Every request passes `RequestGuard` first.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { ClusterNotRunningError, receivedClause, RemoteError } from '../../errors.js';
import { remoteMessage } from '../flag-names.js';
import type { ClusterFeed, FeedUpdate } from './cluster-feed.js';
import { parseRequestTarget } from '../../request-target.js';
import { repeatedHeader } from '../../repeated-header.js';
import { RequestGuard } from './request-guard.js';
import { loadStaticFiles, type StaticFile } from './static-files.js';
import { toReadableError } from '../../readable-error.js';
import { checkRequestFields } from '../../control/control-connection.js';
import { repeatedKey } from '../../control/repeated-key.js';
import { admitPipelined } from '../../pipelined-requests.js';
import { capConnections } from '../../connection-cap.js';
import { UnsentBudget } from '../../primary/features/unsent-budget.js';
import { formatBytes } from '../../format-bytes.js';

/**
 * How far behind a page may fall: output not yet taken by its socket, beyond its first snapshot
 * (which goes out whole, however large the history). A page that does not read (a stuck tab, a
 * client that connects and never reads) is dropped there, and a browser's EventSource reconnects
 * in 2 s to a fresh snapshot; otherwise each such connection kept every later update in memory.
 */
export const kMaxQueuedBytes = 1024 * 1024;
/**
 * Open pages (event streams) at once: each holds its snapshot and `kMaxQueuedBytes` at most. One
 * more takes the place of the page open longest, whose EventSource reconnects in 2 s: connections
 * that ask for the stream and never read cannot lock the page out (hostile tester t61b: 32 of
 * them got every page 503 for as long as they stayed, as the kernel takes megabytes of a stream
 * before the dashboard sees it behind).
 */
export const kMaxStreams = 32;
/** A comment line this often keeps proxies and idle timeouts from closing the stream. */
const kKeepAliveMs = 15_000;
const kMaxBodyBytes = 1_024;
/** Time a client has to send a whole request, headers and body (ms). */
export const kRequestTimeoutMs = 10_000;
/**
 * Open TCP connections at once (connection-cap.ts): one more takes the place of the oldest one
 * with no request in flight, so idle connections cannot lock the page out; an open event stream
 * is a request in flight and is never the one closed. Event streams are capped at `kMaxStreams`.
 */
export const kMaxConnections = 128;
/** What the guard reads (request-guard.ts): each must come once, or the request is ambiguous (400). */
const kGuardedHeaders = ['Host', 'Origin', 'Authorization'];
/** `scale` from the page: a bound that catches a typo (8000 for 8) before it forks. */
export const kMaxScaleCount = 1_024;

/** The page may load only its own files, connect only to this server, and never be framed. */
const kSecurityHeaders = {
  'Content-Security-Policy':
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
  'X-Content-Type-Options': 'nosniff',
  'X-Frame-Options': 'DENY',
  'Referrer-Policy': 'no-referrer',
  'Cross-Origin-Opener-Policy': 'same-origin',
  'Cross-Origin-Resource-Policy': 'same-origin',
};

export interface DashboardControl {
  /** `updateEnv`: as `clusterkit reload --update-env` (H336). */
  reload(updateEnv?: boolean): Promise<unknown>;
  scale(count: number): Promise<unknown>;
}

export interface DashboardServerOptions {
  readonly feed: ClusterFeed;
  readonly host: string;
  readonly port: number;
  /** The control token; undefined for a read-only dashboard. */
  readonly token: string | undefined;
  /** Host names and addresses the `Host` header may carry besides `localhost` and loopback addresses. */
  readonly hostNames: readonly string[];
  /** Any IP address in `Host` too: the server listens on a non-loopback address. */
  readonly acceptsAnyAddress?: boolean;
  readonly control: DashboardControl;
  /** Time a client has to send a whole request (ms); tests shorten it. @default 10000 */
  readonly requestTimeoutMs?: number;
}

export interface DashboardServer {
  /** The port it listens on (the one picked by the system when asked for 0). */
  readonly port: number;
  /** Ends the event streams and closes the server. */
  close(): Promise<void>;
}

/**
 * Listens on `host:port`.
 * @throws the listen error (`code` EADDRINUSE, EACCES...) when the port cannot be had.
 */
export async function startDashboardServer(options: DashboardServerOptions): Promise<DashboardServer> {
  const files = loadStaticFiles();
  const guard = new RequestGuard({ token: options.token, hostNames: options.hostNames, acceptsAnyAddress: options.acceptsAnyAddress ?? false });
  const streams = new Set<http.ServerResponse>();
  const snapshots = new UnsentBudget();
  // One JSON text per update of the feed, for every request until the next: 128 connections of 8
  // pipelined snapshot requests each serialized a 200 KB snapshot 1,024 times, and the dashboard
  // answered nothing for 2.4 s (retest t63).
  let cached: { version: number; text: string; body: Buffer } | undefined;
  const snapshotJson = (): { text: string; body: Buffer } => {
    const { version } = options.feed;
    if (cached?.version !== version) {
      const text = JSON.stringify({ ...options.feed.snapshot(), allowControl: options.token !== undefined });
      // Encoded once too: each answer writes the same bytes.
      cached = { version, text, body: Buffer.from(text) };
    }
    return cached;
  };
  const timeoutMs = options.requestTimeoutMs ?? kRequestTimeoutMs;
  // The page's requests are tiny: a client trickling its headers or body is cut (408) after
  // 10 s, not Node's 60 s and 300 s. An open event stream is a response, not a request: it stays.
  const server = http.createServer({ requestTimeout: timeoutMs, headersTimeout: timeoutMs, connectionsCheckingInterval: Math.min(1_000, timeoutMs) }, (request, response) => {
    if (!admitPipelined(request, response)) return;
    handle(request, response, { ...options, files, guard, streams, snapshots, snapshotJson }).catch((error: unknown) => {
      if (!response.headersSent) sendJson(response, 500, { error: toReadableError(error).message });
      else response.destroy();
    });
  });
  // Pages hold a handful each. Before, a bare `maxConnections` closed every new connection once
  // 128 idle ones were open, so anyone on the machine could lock the page out (H109).
  capConnections(server, kMaxConnections);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const stream of streams) stream.end();
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

interface Context extends DashboardServerOptions {
  readonly files: Map<string, StaticFile>;
  readonly guard: RequestGuard;
  readonly streams: Set<http.ServerResponse>;
  /** `/api/snapshot` answers written and not yet taken (H622), as the health endpoint's `/metrics` answers. */
  readonly snapshots: UnsentBudget;
  /** The snapshot as JSON (with `allowControl`), and its bytes, built once per update of the feed. */
  readonly snapshotJson: () => { readonly text: string; readonly body: Buffer };
}

async function handle(request: http.IncomingMessage, response: http.ServerResponse, context: Context): Promise<void> {
  // Parsed, not `new URL()`d: `http://[` is a 400, and `//dashboard.js` a path (404), not a
  // protocol-relative URL whose path is `/` (the page).
  const target = parseRequestTarget(request.url);
  if (target === undefined) return sendJson(response, 400, { error: 'Malformed request target.' });
  const url = { pathname: target.path };
  const repeated = repeatedHeader(request, kGuardedHeaders);
  if (repeated !== undefined) return sendJson(response, 400, { error: `The request has more than one ${repeated} header; send it once.` });
  const facts = {
    method: request.method ?? 'GET',
    host: request.headers.host,
    authority: target.authority,
    origin: request.headers.origin,
    authorization: request.headers.authorization,
  };
  const verdict = context.guard.checkRequest(facts);
  if (!verdict.ok) return sendJson(response, verdict.status, { error: verdict.message });
  if (url.pathname === '/api/reload' || url.pathname === '/api/scale') {
    const allowed = context.guard.checkControl(facts);
    if (!allowed.ok) return sendJson(response, allowed.status, { error: allowed.message });
    return control(url.pathname, request, response, context);
  }
  if (facts.method !== 'GET' && facts.method !== 'HEAD') return sendJson(response, 405, { error: `${facts.method} is not served here.` });
  if (url.pathname === '/api/stream') {
    // A HEAD answer has no body, and Node sends its headers only at end(), which a stream never
    // calls: `curl -I` waited forever, and each such request held a stream's place (hostile t88 #1).
    if (facts.method === 'HEAD') return void response.writeHead(200, kStreamHeaders).end();
    return stream(request, response, context);
  }
  if (url.pathname === '/api/snapshot') return sendSnapshot(response, context);
  const file = context.files.get(url.pathname);
  if (!file) return sendJson(response, 404, { error: `Nothing at ${url.pathname}.` });
  response.writeHead(200, { ...kSecurityHeaders, 'Content-Type': file.type, 'Content-Length': file.body.length, 'Cache-Control': 'no-cache' });
  response.end(facts.method === 'HEAD' ? undefined : file.body);
}

/**
 * The snapshot as JSON, or 503 while the answers its clients have not taken yet hold the budget
 * (64 MiB, unsent-budget.ts): a snapshot is as large as the cluster and its history (475 KB for 30
 * workers), and 128 connections of 8 pipelined `GET /api/snapshot` each that did not read made the
 * dashboard hold 340 MB and answer nothing for 5 s (hostile tester t61b). Refused before it is
 * built while one as large as the last would not fit, so a flood of them costs no serializing.
 */
function sendSnapshot(response: http.ServerResponse, context: Context): void {
  const { snapshots } = context;
  if (snapshots.fits(snapshots.lastBytes)) {
    const { body } = context.snapshotJson();
    const bytes = body.length;
    // A connection that has not taken it in 30 s is reset to free it: its client gave up or never reads.
    if (snapshots.take(response, bytes, () => {})) {
      response.writeHead(200, { ...kSecurityHeaders, 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', 'Content-Length': bytes });
      return void response.end(body);
    }
  }
  const retryS = Math.ceil(snapshots.deadlineMs / 1000);
  response.setHeader('Retry-After', String(retryS));
  response.setHeader('Connection', 'close');
  sendJson(response, 503, {
    error:
      `Snapshot refused: ${formatBytes(snapshots.unsent)} of earlier snapshots are still unsent to clients that have not taken them yet, and one more would pass the ${formatBytes(snapshots.maxBytes)} the dashboard holds at most. ` +
      `Retry in ${retryS} s: by then each of them is sent or its connection reset. Clients that read their answers slowly or not at all, or many requests at once, cause this.`,
  });
}

/** Server-Sent Events: a snapshot first, then every update of the feed as it comes. */
const kStreamHeaders = { ...kSecurityHeaders, 'Content-Type': 'text/event-stream; charset=utf-8', 'Cache-Control': 'no-store', 'X-Accel-Buffering': 'no' };

function stream(request: http.IncomingMessage, response: http.ServerResponse, context: Context): void {
  // Set order is opening order: the first is the page open longest. Out of the set at once, as
  // its 'close' comes later: a second page in the same tick takes the place of the next one.
  const oldest = context.streams.size >= kMaxStreams ? context.streams.values().next().value : undefined;
  if (oldest !== undefined) {
    context.streams.delete(oldest);
    oldest.destroy();
  }
  response.writeHead(200, kStreamHeaders);
  context.streams.add(response);
  let limit = kMaxQueuedBytes;
  /** Writes `text`, unless the page is more than `limit` behind: then it is dropped (destroyed) instead. */
  const write = (text: string) => {
    if (response.destroyed) return;
    if (response.writableLength > limit) return void response.destroy();
    response.write(text);
  };
  const frame = (event: string, data: unknown) => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
  const snapshot = `retry: 2000\n\nevent: snapshot\ndata: ${context.snapshotJson().text}\n\n`;
  // The history may be larger than the bound: it goes out whole, and the bound counts after it.
  limit += snapshot.length;
  write(snapshot);
  const unsubscribe = context.feed.subscribe((update: FeedUpdate) => {
    const { kind, ...data } = update;
    write(frame(kind, data));
  });
  const keepAlive = setInterval(() => write(': keep-alive\n\n'), kKeepAliveMs);
  keepAlive.unref();
  response.once('close', () => {
    clearInterval(keepAlive);
    unsubscribe();
    context.streams.delete(response);
  });
  request.socket.setNoDelay(true);
}

async function control(path: string, request: http.IncomingMessage, response: http.ServerResponse, context: Context): Promise<void> {
  const text = await readBody(request);
  if (text === undefined) return sendJson(response, 413, { error: `A control request body is at most ${kMaxBodyBytes} bytes.` });
  const command = path === '/api/reload' ? 'reload' : 'scale';
  const example = command === 'reload' ? '{}' : '{"count": 2}';
  // The page sends `{}` to reload; curl may send nothing.
  const body = text.trim() === '' && command === 'reload' ? {} : parseJson(text);
  if (body === kNotJson) return sendJson(response, 400, { error: `The request body is not JSON; send a JSON object such as ${example}.` });
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    return sendJson(response, 400, { error: `The request body must be a JSON object such as ${example}. ${receivedClause(body)}.` });
  }
  // As the control socket refuses one (H573): JSON.parse keeps the last, without a word (hostile t83 #11: `{"count":2,"count":3}` scaled to 3).
  const repeated = repeatedKey(text, { topLevelOnly: true });
  if (repeated !== undefined) return sendJson(response, 400, { error: `The request body gives ${JSON.stringify(repeated.key)} twice; JSON would keep the last one, so nothing was done. Give each field once, as in ${example}.` });
  try {
    // The control socket's table of fields: a misspelt or unknown field is refused, not ignored.
    checkRequestFields(command, body as Record<string, unknown>, []);
  } catch (error) {
    return sendJson(response, 400, { error: toReadableError(error).message });
  }
  try {
    if (command === 'reload') {
      const { updateEnv } = body as { updateEnv?: unknown };
      if (updateEnv !== undefined && typeof updateEnv !== 'boolean') return sendJson(response, 400, { error: `"updateEnv" must be true or false. ${receivedClause(updateEnv)}.` });
      return sendJson(response, 200, await context.control.reload(updateEnv === true));
    }
    const { count } = body as { count?: unknown };
    if (typeof count !== 'number' || !Number.isSafeInteger(count) || count < 1 || count > kMaxScaleCount) {
      return sendJson(response, 400, { error: `The worker count must be an integer from 1 to ${kMaxScaleCount}. ${receivedClause(count)}.` });
    }
    return sendJson(response, 200, await context.control.scale(count));
  } catch (error) {
    if (error instanceof ClusterNotRunningError) return sendJson(response, 503, { error: error.message });
    // In the names of the options the primary was given: `clusterkit run`'s flags, or its own code's (H359).
    if (error instanceof RemoteError) return sendJson(response, 409, { error: asSentence(remoteMessage(error)), code: error.remoteCode });
    throw error;
  }
}

/** The page shows messages as sentences; the library's option errors end without a period. */
function asSentence(message: string): string {
  return /[.!?]$/.test(message) ? message : `${message}.`;
}

/** The request body as text; undefined when it is larger than `kMaxBodyBytes` bytes. */
function readBody(request: http.IncomingMessage): Promise<string | undefined> {
  return new Promise((resolve, reject) => {
    // Bytes, as the limit's message says (hostile t88 #2: characters were counted, so a body of
    // 2-byte characters got past "at most 1024 bytes" at 1,418 bytes).
    const chunks: Buffer[] = [];
    let bytes = 0;
    request.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > kMaxBodyBytes) {
        request.removeAllListeners('data');
        request.resume();
        resolve(undefined);
        return;
      }
      chunks.push(chunk);
    });
    request.once('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    request.once('error', reject);
  });
}

const kNotJson = Symbol('not JSON');

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return kNotJson;
  }
}

function sendJson(response: http.ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body ?? null);
  response.writeHead(status, { ...kSecurityHeaders, 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store', 'Content-Length': Buffer.byteLength(text) });
  response.end(text);
}
