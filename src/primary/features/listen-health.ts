/**
 * The health endpoint for Kubernetes (and any load balancer): `primary.listenHealth()`.
 *
 * - `GET /healthz`: 200 while the primary's event loop answers (liveness). A crashed worker
 *   does not fail it: the primary replaces workers itself. Nor does `role`: liveness is the primary's.
 * - `GET /readyz`: 200 while at least `minReady` workers are ready and answer the heartbeat,
 *   and the primary is not shutting down; 503 from the moment shutdown begins, so traffic drains
 *   away first. A silent worker (`stats().isSilent`: its event loop most likely blocked) is not
 *   in `readyWorkers` but in `silentWorkers`, as `clusterkit status`, the dashboard and
 *   `clusterkit_workers{state="ready"}` count it (H375): every ready worker silent is 503, the
 *   pod serves nothing until the heartbeat replaces them. `/healthz` never fails for them: the
 *   primary is alive, and a restarted pod would lose the replacements.
 *   With `role`, only the workers forked with that role count, in every figure (H357).
 * - `GET /metrics`: `primary.metrics()`, the Prometheus text exposition. The answers written and
 *   not yet taken by their clients are bounded in bytes (metrics-answers.ts, H607): past the
 *   budget a scrape gets 503, and a connection that has not taken its answer in 30 s is reset.
 *
 * It keeps answering during shutdown and closes when shutdown completes.
 */
import type { AddressInfo } from 'node:net';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { loadHttp } from '../../builtins.js';
import { durationOption } from '../../duration.js';
import { repeatedHeader } from '../../repeated-header.js';
import { toError } from '../../to-error.js';
import { integerOption, knownOptions, portOption, stringOption, workerNameOption } from '../../validate.js';
import { ShutdownInProgressError } from '../../errors.js';
import type { PrimaryState } from '../lifecycle/primary-lifecycle.js';
import type { PrimaryContext } from '../primary-context.js';
import { parseRequestTarget } from '../../request-target.js';
import { isLoopbackAddress, isLoopbackHost } from '../../host-header.js';
import { admitPipelined } from '../../pipelined-requests.js';
import { capConnections } from '../../connection-cap.js';
import { listenServer } from './listen-server.js';
import { isPaused } from '../../worker/process-table.js';
import { collectFailing } from './given-up-stats.js';
import { MetricsAnswers } from './metrics-answers.js';
import type { Logger } from '../../logger.js';

/** How long a client has to send its whole request, headers included (ms). */
const kRequestTimeoutMs = 10_000;

/**
 * Open connections at once; one more takes the place of the oldest idle one, or is closed if
 * none is idle (connection-cap.ts). Probes and scrapes need a handful; without a bound, a client on the pod network
 * opening connections faster than the 10 s timeout closes them would run the primary out of
 * file descriptors, and with them its ability to fork a worker or accept `clusterkit` commands.
 */
export const kMaxHealthConnections = 128;

export interface HealthOptions {
  /** Port to listen on (0 for any free port). */
  port: number;
  /** Address to listen on. @default all interfaces */
  host?: string;
  /**
   * Ready workers needed for `/readyz` to answer 200, answering the heartbeat: a silent worker
   * does not count (H375; 0 keeps `/readyz` up with no worker at all, silent or not). @default 1
   */
  minReady?: number;
  /** Time each worker has to answer a `/metrics` scrape. @default 2000 */
  metricsTimeoutMs?: number;
  /**
   * Only workers forked with this role (`fork({ roles: [role] })`) count for `/readyz`: its
   * ready, silent, stopped and given-up figures, and `minReady`. For a pod whose HTTP is served by
   * its `web` workers beside a named `cache` worker: `{ role: 'web' }` is not ready while only the
   * cache worker is. A role no worker has yet is allowed (503 until one is ready). `/healthz`
   * (liveness) is the primary's, whatever the role. Each role its own listener, on its own port.
   * @default every worker
   */
  role?: string;
}

export interface HealthListener {
  readonly address: AddressInfo;
  close(): Promise<void>;
}

/** Ready workers that answer, and the silent ones beside them (undefined with `heartbeat: false`). */
export interface ReadyCount {
  /** Ready and answering the heartbeat: neither silent nor stopped (H375: before, silent ones were in it). */
  ready: number;
  /** Ready, but silent (not in `ready`); undefined with `heartbeat: false`. */
  silent: number | undefined;
  /** The shortest silence of the silent ones (ms); undefined when none is silent. */
  silentForMs: number | undefined;
  /** Slots the crash-loop breaker gave up on, and whether they are all the slots there are (no worker at all). */
  givenUp?: { count: number; isEvery: boolean } | undefined;
  /** Workers ready once, now stopped (SIGSTOP, Ctrl-Z, a debugger): not in `ready`, they serve nothing (H344). */
  paused?: number | undefined;
  /** Workers that listened, then closed every server while their process runs on: not in `ready`, they accept nothing (H489). */
  closed?: number | undefined;
  /**
   * Slots failing in a crash loop, not given up (yet): their workers exited since their last ready
   * one, and they restart (H396); `nextRestartInMs`: the soonest restart still waiting out its backoff.
   */
  failing?: { count: number; nextRestartInMs: number | undefined } | undefined;
  /** With a role: whether any worker slot, served or given up, has it (H357). */
  hasRoleWorkers?: boolean | undefined;
}

/** What the endpoint reads from the primary. */
export interface HealthSource {
  state(): PrimaryState;
  readyWorkers(): ReadyCount;
  metrics(timeoutMs: number): Promise<string>;
}

/**
 * `primary.listenHealth()`: listens, and closes when shutdown completes. `metrics` serves
 * `/metrics` (`primary.metrics()`).
 */
export async function listenHealth(
  { lifecycle, pool, options: { heartbeat } }: Pick<PrimaryContext, 'lifecycle' | 'pool' | 'options'>,
  metrics: (timeoutMs: number) => Promise<string>,
  input: HealthOptions,
  lines?: Pick<Logger, 'warn'>,
): Promise<HealthListener> {
  if (lifecycle.state === 'stopped') throw new ShutdownInProgressError('The primary has shut down; listenHealth() is refused.');
  const options = knownOptions(input, ['port', 'host', 'minReady', 'metricsTimeoutMs', 'role'], 'listenHealth options');
  const port = portOption(options.port);
  const host = stringOption(options.host, 'host');
  const minReady = integerOption(options.minReady, 'minReady', 1, { min: 0 });
  const metricsTimeoutMs = durationOption(options.metricsTimeoutMs, 'metricsTimeoutMs', 2_000);
  // Checked as listenSticky's role and fork's roles are (H357).
  const role = workerNameOption(options.role, 'role', 'role');
  const source: HealthSource = { state: () => lifecycle.state, readyWorkers: () => countReady(pool, heartbeat, role), metrics };
  // Probes and scrapes send no body and a few headers: a client trickling either is cut after
  // 10 s, not Node's 300 s (`requestTimeout`) and 60 s (`headersTimeout`).
  const onRequest = (request: IncomingMessage, response: ServerResponse) => {
    if (!admitPipelined(request, response)) return;
    route(source, { minReady, role, metricsTimeoutMs, isLoopbackOnly, answers }, request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500, { 'content-type': 'text/plain' });
      response.end(`${toError(error).message}\n`);
    });
  };
  const server = loadHttp().createServer({ requestTimeout: kRequestTimeoutMs, headersTimeout: kRequestTimeoutMs, connectionsCheckingInterval: 1_000 }, onRequest);
  // No `100 Continue` (Node's answer to `Expect: 100-continue` when nothing listens here): no path
  // takes a body, so the client would upload it for nothing before its 405 (retest t66: 50 MB).
  server.on('checkContinue', onRequest);
  await listenServer(server, 'listenHealth', port, host);
  capConnections(server, kMaxHealthConnections);
  // Bound to loopback, only this machine's processes may ask; a browser page of another site
  // that rebinds its DNS name to 127.0.0.1 could read /metrics, so its Host is refused. Bound
  // to a pod's address, any Host goes: the kubelet probes by IP.
  const isLoopbackOnly = isLoopbackAddress((server.address() as AddressInfo).address);
  // Its warnings name the port: made once listening, before any request (as isLoopbackOnly).
  const answers = new MetricsAnswers((server.address() as AddressInfo).port, lines, pool.ownWork);
  let closing: Promise<void> | undefined;
  const listener: HealthListener = {
    address: server.address() as AddressInfo,
    close: () =>
      (closing ??= new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
        answers.flush();
      })),
  };
  lifecycle.onShutdown('end', `listenHealth({ port: ${listener.address.port} }).close`, () => listener.close());
  return listener;
}

async function route(
  source: HealthSource,
  options: { minReady: number; role: string | undefined; metricsTimeoutMs: number; isLoopbackOnly: boolean; answers: MetricsAnswers },
  request: IncomingMessage,
  response: ServerResponse,
): Promise<void> {
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
    // With a body, as every other answer here (retest t64: an empty 405 left a probe's author guessing).
    response.setHeader('allow', 'GET, HEAD');
    json(response, 405, { status: 'method not allowed', reason: `${String(request.method).slice(0, 16)} is not served: the endpoint answers GET and HEAD` });
    return;
  }
  switch (path) {
    case '/healthz':
      json(response, 200, { status: 'ok', state: source.state() });
      return;
    case '/readyz': {
      let readiness = readinessOf(source, options.minReady, options.role);
      // Not ready for silent workers: their answers may already wait on the channels, unread
      // while this primary's own loop was busy; they are read before the poll phase ends.
      if (readiness.isHeldBySilence) {
        await new Promise<void>((resolve) => setImmediate(resolve));
        readiness = readinessOf(source, options.minReady, options.role);
      }
      json(response, readiness.isReady ? 200 : 503, readiness.body);
      return;
    }
    case '/metrics': {
      if (!options.answers.admit(response)) return;
      options.answers.send(response, await source.metrics(options.metricsTimeoutMs), request.method === 'HEAD');
      return;
    }
    default:
      json(response, 404, { status: 'not found', paths: ['/healthz', '/readyz', '/metrics'] });
  }
}

/** The `/readyz` answer. */
function readinessOf(source: HealthSource, minReady: number, role: string | undefined): { isReady: boolean; isHeldBySilence: boolean; body: object } {
  const state = source.state();
  const { ready, silent, silentForMs, givenUp, paused, closed, hasRoleWorkers, failing } = source.readyWorkers();
  const silentCount = silent ?? 0;
  // `"web" workers` with a role, `workers` without.
  const workers = role === undefined ? 'workers' : `${JSON.stringify(role)} workers`;
  // `ready` counts the workers that answer, as status and /metrics do (H375); minReady 0 says the
  // pod is ready with no worker at all: silent ones cannot make it less so.
  const isReady = state === 'running' && ready >= minReady;
  // Short of minReady only for silent workers: they would make up the count if they answered.
  const isHeldBySilence = state === 'running' && ready < minReady && ready + silentCount >= minReady;
  const silence = `silent for ${((silentForMs ?? 0) / 1000).toFixed(1)}s or more`;
  let reason: string | undefined;
  if (state === 'stopping' || state === 'stopped') reason = 'shutting down';
  else if (state !== 'running') reason = 'starting';
  // Silent workers alone: with a stopped or closed one beside them, the general line says all (ops tester t54: "the only ready worker" of 2).
  else if (isHeldBySilence && ready === 0 && (paused ?? 0) === 0 && (closed ?? 0) === 0) reason = `${silentCount === 1 ? `the only ready ${workers.slice(0, -1)}` : `all ${silentCount} ready ${workers}`} ${silence}: no answer to the heartbeat`;
  else if (ready < minReady) {
    const silentClause = silentCount > 0 ? `, ${silentCount} ${silence} (no answer to the heartbeat)` : '';
    reason = `${ready} of ${minReady} required ${workers} ready${silentClause}${pausedClause(paused)}${closedClause(closed)}${failingClause(failing, workers.slice(0, -1))}${givenUpClause(givenUp, workers.slice(0, -1))}${hasRoleWorkers === false ? noRoleClause(role!) : ''}`;
  }
  const body = {
    status: isReady ? 'ready' : 'not ready',
    ...(role === undefined ? {} : { role }),
    readyWorkers: ready,
    ...(silent === undefined ? {} : { silentWorkers: silent }),
    ...(paused === undefined ? {} : { pausedWorkers: paused }),
    ...(closed === undefined ? {} : { closedWorkers: closed }),
    ...(givenUp === undefined ? {} : { givenUpSlots: givenUp.count }),
    ...(failing === undefined ? {} : { failingSlots: failing.count }),
    minReady,
    ...(reason ? { reason } : {}),
  };
  return { isReady, isHeldBySilence, body };
}

/** `, 1 stopped (SIGSTOP or a debugger; kill -CONT resumes it)` when ready workers were paused. */
function pausedClause(paused: number | undefined): string {
  if (paused === undefined || paused === 0) return '';
  return `, ${paused} stopped (SIGSTOP, Ctrl-Z or a debugger; kill -CONT resumes ${paused === 1 ? 'it' : 'them'})`;
}

/** `, 1 closed its servers (it listened, and accepts no connection now)` when ready workers did. */
function closedClause(closed: number | undefined): string {
  if (closed === undefined || closed === 0) return '';
  return `, ${closed} closed ${closed === 1 ? 'its servers' : 'their servers'} (${closed === 1 ? 'it' : 'they'} listened, and ${closed === 1 ? 'accepts' : 'accept'} no connection now)`;
}

/**
 * `, 2 worker slots failing and restarting (the next restart in 4.2s)` while slots fail in a
 * crash loop, not given up yet (H396); `worker` is `"web" worker` with a role.
 */
function failingClause(failing: ReadyCount['failing'], worker: string): string {
  if (failing === undefined || failing.count === 0) return '';
  const slots = `${failing.count} ${worker} ${failing.count === 1 ? 'slot' : 'slots'}`;
  const next = failing.nextRestartInMs === undefined ? 'a restarted worker starting' : `the next restart in ${(failing.nextRestartInMs / 1000).toFixed(1)}s`;
  return `, ${slots} failing and restarting (${next})`;
}

/** `: no worker has the role "web" ...` when none was forked with the listener's role (H357). */
function noRoleClause(role: string): string {
  const quoted = JSON.stringify(role);
  return `: no worker has the role ${quoted}; fork some with fork({ roles: [${quoted}] }), or fix the role given to listenHealth()`;
}

/**
 * Why fewer workers are ready when slots were given up in a crash loop (H333): `: the only worker
 * slot was given up in a crash loop; a reload that succeeds starts it again ...`; `worker` is
 * `"web" worker` with a role.
 */
function givenUpClause(givenUp: ReadyCount['givenUp'], worker: string): string {
  if (givenUp === undefined || givenUp.count === 0) return '';
  const slots = givenUp.count === 1 ? 'slot' : 'slots';
  const them = givenUp.count === 1 ? 'it' : 'them';
  // Retest t35 LOW-6: "every worker slots (2) were given up".
  const every = givenUp.count === 1 ? `the only ${worker} slot was` : `all ${givenUp.count} ${worker} slots were`;
  const which = givenUp.isEvery ? every : `${givenUp.count} ${worker} ${slots} ${givenUp.count === 1 ? 'was' : 'were'}`;
  return `: ${which} given up in a crash loop; a reload that succeeds starts ${them} again`;
}

/**
 * Ready workers that answer (those `roundRobin()` prefers) and, with the heartbeat on, the silent
 * ones beside them, out of `ready` (H375); with `role`, only the workers forked with it (H357).
 */
function countReady(pool: PrimaryContext['pool'], heartbeat: PrimaryContext['options']['heartbeat'], role: string | undefined): ReadyCount {
  const now = Date.now();
  const hasRole = (slot: { readonly spec: { readonly roles: readonly string[] } }) => role === undefined || slot.spec.roles.includes(role);
  let members = 0;
  let silent = 0;
  let silentForMs = Number.POSITIVE_INFINITY;
  let paused = 0;
  let closed = 0;
  for (const record of pool.records) {
    if (!pool.rotation.has(record) || !hasRole(record.slot)) continue;
    members += 1;
    // Listened, and closed all it listened on: node:cluster hands it nothing (k8s tester t52: /readyz 200, the port refusing).
    if (record.hasClosedServers()) {
      closed += 1;
      continue;
    }
    if (!pool.isSilent(record, now)) continue;
    // A stopped process answers nothing and serves nothing: not ready, whatever its last state
    // (retest t35 LOW-5: /readyz said 2 ready while status said 1/2 ready, 1 stopped). Read
    // from the process table, for silent workers only.
    if (record.pid !== undefined && isPaused(record.pid)) {
      paused += 1;
      continue;
    }
    silent += 1;
    silentForMs = Math.min(silentForMs, now - record.lastHeardAt());
  }
  const givenUp = pool.givenUp.filter((entry) => hasRole(entry.slot)).length;
  const failing = collectFailing(pool, now).filter((slot) => role === undefined || slot.roles.includes(role));
  const waits = failing.flatMap((slot) => (slot.restartInMs === undefined ? [] : [slot.restartInMs]));
  const activeSlots = pool.activeSlots().filter(hasRole).length;
  return {
    ready: members - paused - silent - closed,
    ...(paused === 0 ? {} : { paused }),
    ...(closed === 0 ? {} : { closed }),
    silent: heartbeat ? silent : undefined,
    silentForMs: silent > 0 ? silentForMs : undefined,
    ...(givenUp === 0 ? {} : { givenUp: { count: givenUp, isEvery: activeSlots === 0 } }),
    ...(failing.length === 0 ? {} : { failing: { count: failing.length, nextRestartInMs: waits.length === 0 ? undefined : Math.min(...waits) } }),
    ...(role === undefined ? {} : { hasRoleWorkers: activeSlots + givenUp > 0 }),
  };
}

function json(response: ServerResponse, status: number, body: object): void {
  response.writeHead(status, { 'content-type': 'application/json', 'cache-control': 'no-store' }).end(`${JSON.stringify(body)}\n`);
}
