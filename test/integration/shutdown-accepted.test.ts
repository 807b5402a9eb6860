/**
 * With round-robin scheduling the primary accepts each connection and queues it until a worker
 * is free to take it. When the last worker of a port closed its server in a shutdown,
 * node:cluster reset every connection still queued: under load, one per client opening a
 * connection per request, while the report said every worker stopped cleanly and nothing was
 * cut off (retest t36). A shutdown now closes the listening sockets first, hands what they
 * accepted to the workers, then stops them; what is reset all the same is counted
 * (src/primary/pool/round-robin-intake.ts).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { outcomeExitCode, stopOutcome } from '../../src/cli/control-outcome.js';
import { stopCounts } from '../../src/control/stop-counts.js';
import { processListens } from '../../src/primary/pool/cluster-listens.js';
import type { ShutdownReport } from '../../src/index.js';
import { capturedLogger } from '../helpers/captured-logger.js';
import { onCleanup } from '../helpers/cleanup.js';
import { freePort } from '../helpers/ports.js';
import { testPrimary } from '../helpers/primary.js';
import { onceEvent, until } from '../helpers/wait.js';

/** Connections this process holds as raw TCP handles: the primary's copies of the connections it accepted. */
function rawTcpHandles(): number {
  return (process as unknown as { _getActiveHandles(): object[] })._getActiveHandles().filter((handle) => handle.constructor.name === 'TCP').length;
}

interface Client {
  /** Resolves with the answer's body, or with the error's code (ECONNRESET), once the connection ended. */
  readonly outcome: Promise<string>;
}

/** A client that opens a connection, sends one request and reads until the server closes (`Connection: close`). */
function client(port: number | string): Client {
  const socket = typeof port === 'string' ? net.connect(port) : net.connect(port, '127.0.0.1');
  onCleanup(() => socket.destroy());
  let received = '';
  socket.setEncoding('utf8');
  socket.on('data', (chunk: string) => (received += chunk));
  const outcome = new Promise<string>((resolve) => {
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code ?? error.message));
    socket.once('close', () => resolve(received.includes('\r\n\r\n') ? received.slice(received.indexOf('\r\n\r\n') + 4) : `closed without an answer: ${JSON.stringify(received)}`));
  });
  socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  return { outcome };
}

/**
 * A client that connects and sends its request, then leaves when told: `reset` (an RST, as
 * `socket.resetAndDestroy()`) or `end` (a FIN), resolving once it did.
 */
function leavingClient(port: number): { readonly socket: net.Socket; leave(how: 'reset' | 'end'): Promise<void> } {
  const socket = net.connect(port, '127.0.0.1');
  onCleanup(() => socket.destroy());
  socket.on('error', () => {}); // reset by the shutdown once it closed its side: nothing to see
  socket.write('GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
  return {
    socket,
    leave: (how) =>
      new Promise<void>((resolve) => {
        if (how === 'reset') {
          socket.once('close', () => resolve());
          socket.resetAndDestroy();
        } else socket.end(resolve);
      }),
  };
}

/** Connections `isRefused()` opened: it closes each at once (a FIN), which is not counted as reset unless the kernel's backlog held it. */
let probesConnected = 0;

/** Resolves true when a connection to `port` is refused (nothing listens), false when one opens. */
function isRefused(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.once('connect', () => {
      probesConnected++;
      socket.destroy();
      resolve(false);
    });
    socket.once('error', (error: NodeJS.ErrnoException) => resolve(error.code === 'ECONNREFUSED'));
  });
}

describe('connections the primary accepted when a shutdown begins', () => {
  it('[H358] are handed to the workers and answered before they stop, not reset as the last worker closes its server; the listening socket closes first', async () => {
    const port = await freePort();
    const primary = testPrimary({ env: { PORT: String(port) }, restart: false }, 'workers/http-server.ts');
    const [worker] = await primary.start();
    const dir = mkdtempSync(join(tmpdir(), 'ck-accepted-'));
    onCleanup(() => rmSync(dir, { recursive: true, force: true }));
    const unblock = join(dir, 'unblock');
    // The worker's event loop stops until the test says: it takes no connection meanwhile.
    await expect(primary.send(worker!, 'blockUntilFile', { path: unblock })).resolves.toBe('blocking');
    const before = rawTcpHandles();
    const clients = Array.from({ length: 5 }, () => client(port));
    // The primary accepted all five: one handed to the worker, not acknowledged, four queued for it.
    await until(() => rawTcpHandles() >= before + clients.length, 30_000, 'the primary accepting the five connections');
    const report = onceEvent<ShutdownReport>(primary, 'shutdownComplete');
    const shuttingDown = onceEvent(primary, 'shutdown');
    const stopped = primary.shutdown({ timeoutMs: 20_000 });
    await shuttingDown;
    writeFileSync(unblock, '');
    // Before: the first answered; the four queued reset (ECONNRESET) as the worker closed its server.
    await expect(Promise.all(clients.map(({ outcome }) => outcome))).resolves.toEqual(Array.from({ length: 5 }, () => `pid:${worker!.pid}`));
    const { graceful, failed, killed, requestsCut, connectionsReset } = await report;
    expect({ graceful: graceful.length, failed: failed.length, killed: killed.length, requestsCut, connectionsReset }).toEqual({ graceful: 1, failed: 0, killed: 0, requestsCut: 0, connectionsReset: undefined });
    await stopped;
  });

  it('[H358] that no worker takes (its event loop blocked for good) are counted in the report and its line as reset, and new clients are refused meanwhile', async () => {
    const port = await freePort();
    const { logger, text } = capturedLogger('info');
    const primary = testPrimary({ env: { PORT: String(port) }, restart: false, logger }, 'workers/http-server.ts');
    const [worker] = await primary.start();
    await expect(primary.send(worker!, 'blockSoon', { ms: -1 })).resolves.toBe('blocking');
    const before = rawTcpHandles();
    const clients = Array.from({ length: 5 }, () => client(port));
    await until(() => rawTcpHandles() >= before + clients.length, 30_000, 'the primary accepting the five connections');
    const report = onceEvent<ShutdownReport>(primary, 'shutdownComplete');
    const shuttingDown = onceEvent(primary, 'shutdown');
    const stopped = primary.shutdown({ timeoutMs: 2_000 });
    await shuttingDown;
    // The listening socket closes as the shutdown begins (before: once the last worker was gone).
    probesConnected = 0;
    await until(() => isRefused(port), 30_000, 'the port refusing new connections while the blocked worker still runs');
    expect(worker!.clusterWorker.isDead()).toBe(false);
    // Killed at the timeout: the one it was handed is cut off with it; node:cluster resets the four queued.
    const outcomes = await Promise.all(clients.map(({ outcome }) => outcome));
    expect(outcomes.filter((outcome) => outcome.startsWith('pid:'))).toEqual([]);
    const stoppedReport = await report;
    const { graceful, killed, requestsCut, connectionsReset } = stoppedReport;
    // The four queued; a probe of the port that connected before it closed left at once (a FIN):
    // not counted (H364), unless the kernel's backlog still held it as the socket closed.
    const reset = connectionsReset ?? 0;
    expect(reset).toBeGreaterThanOrEqual(4);
    expect(reset).toBeLessThanOrEqual(4 + probesConnected);
    expect({ graceful: graceful.length, killed: killed.length, requestsCut }).toEqual({ graceful: 0, killed: 1, requestsCut: 1 });
    // What the control socket answers `clusterkit stop`, which exits 3 for them as for requests cut off.
    expect(stopCounts(stoppedReport)).toMatchObject({ killed: 1, requestsCut: 1, connectionsReset: reset });
    expect(outcomeExitCode(stopOutcome({ graceful: 1, killed: 0, requestsCut: 0, connectionsReset: reset }))).toBe(3);
    await stopped;
    // Before: `requestsCut=1`, and nothing of the four.
    expect(text()).toContain(`shutdown complete: 1 worker did not stop cleanly, 1 request cut off, ${reset} connections reset before any worker took them`);
    expect(text()).toContain(`connectionsReset=${reset}`);
  });

  it('[H364] whose clients reset them or closed their side before the shutdown are not counted as reset: only the clients still waiting are', async () => {
    const port = await freePort();
    const { logger, text } = capturedLogger('info');
    const primary = testPrimary({ env: { PORT: String(port) }, restart: false, logger }, 'workers/http-server.ts');
    const [worker] = await primary.start();
    await expect(primary.send(worker!, 'blockSoon', { ms: -1 })).resolves.toBe('blocking');
    const before = rawTcpHandles();
    // Handed to the blocked worker, never acknowledged: cut off with it (requestsCut), first so that no leaving client is.
    const first = client(port);
    await until(() => rawTcpHandles() >= before + 1, 30_000, 'the primary accepting the first connection');
    const waiting = [client(port), client(port)];
    const leaving = Array.from({ length: 8 }, () => leavingClient(port));
    await until(() => rawTcpHandles() >= before + 11, 30_000, 'the primary accepting the eleven connections');
    // Queued in node:cluster's handle: 6 of their clients reset them, 2 close their side (as a health check giving up).
    await Promise.all(leaving.map(({ leave }, index) => leave(index < 6 ? 'reset' : 'end')));
    const report = onceEvent<ShutdownReport>(primary, 'shutdownComplete');
    const stopped = primary.shutdown({ timeoutMs: 2_000 });
    const outcomes = await Promise.all([first, ...waiting].map(({ outcome }) => outcome));
    expect(outcomes.filter((outcome) => outcome.startsWith('pid:'))).toEqual([]);
    const stoppedReport = await report;
    const { graceful, killed, requestsCut, connectionsReset } = stoppedReport;
    // Before: 10, the eight whose clients had left counted as reset by the shutdown.
    expect({ graceful: graceful.length, killed: killed.length, requestsCut, connectionsReset }).toEqual({ graceful: 0, killed: 1, requestsCut: 1, connectionsReset: 2 });
    expect(stopCounts(stoppedReport)).toMatchObject({ connectionsReset: 2 });
    await stopped;
    expect(text()).toContain('connectionsReset=2');
  });

  it('[H364] on a unix socket path are counted as on a TCP port: those queued in the primary for a worker that never takes them', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ck-accepted-'));
    onCleanup(() => rmSync(dir, { recursive: true, force: true }));
    const path = join(dir, 'http.sock');
    const primary = testPrimary({ env: { PORT: '0', SOCKET_PATH: path }, restart: false }, 'workers/http-server.ts');
    const [worker] = await primary.start();
    await expect(primary.send(worker!, 'blockSoon', { ms: -1 })).resolves.toBe('blocking');
    // The primary's copies of the connections on the path: Pipe handles it did not hold before (one of those may close meanwhile).
    const activeHandles = () => (process as unknown as { _getActiveHandles(): object[] })._getActiveHandles();
    const held = new Set(activeHandles());
    const newPipes = () => activeHandles().filter((handle) => handle.constructor.name === 'Pipe' && !held.has(handle)).length;
    const clients = Array.from({ length: 5 }, () => client(path));
    await until(() => newPipes() >= clients.length, 30_000, 'the primary accepting the five connections on the path');
    const report = onceEvent<ShutdownReport>(primary, 'shutdownComplete');
    const stopped = primary.shutdown({ timeoutMs: 2_000 });
    const outcomes = await Promise.all(clients.map(({ outcome }) => outcome));
    expect(outcomes.filter((outcome) => outcome.startsWith('pid:'))).toEqual([]);
    const { graceful, killed, requestsCut, connectionsReset } = await report;
    // One handed to the worker (cut off with it), four queued in the primary (reset).
    expect({ graceful: graceful.length, killed: killed.length, requestsCut, connectionsReset }).toEqual({ graceful: 0, killed: 1, requestsCut: 1, connectionsReset: 4 });
    await stopped;
  });

  it('[H364] the wait for the accepted connections to be taken comes out of the shutdown timeout: a worker that never stops is killed at the timeout, not the wait later', async () => {
    const port = await freePort();
    const primary = testPrimary({ env: { PORT: String(port) }, restart: false }, 'workers/http-server.ts');
    const [worker] = await primary.start();
    await expect(primary.send(worker!, 'blockSoon', { ms: -1 })).resolves.toBe('blocking');
    const before = rawTcpHandles();
    const clients = Array.from({ length: 3 }, () => client(port));
    await until(() => rawTcpHandles() >= before + clients.length, 30_000, 'the primary accepting the three connections');
    const timeoutMs = 8_000;
    const exited = new Promise<void>((resolve) => worker!.clusterWorker.once('exit', () => resolve()));
    const startedAt = performance.now();
    const stopped = primary.shutdown({ timeoutMs });
    await exited;
    const elapsedMs = performance.now() - startedAt;
    await Promise.all(clients.map(({ outcome }) => outcome));
    // The wait lasts its whole bound (2 s: the connections are never taken). Before, the worker's
    // 8 s began after it: killed at 10 s at the earliest. Now at the timeout, plus the kill.
    expect(elapsedMs).toBeGreaterThanOrEqual(timeoutMs - 100);
    expect(elapsedMs).toBeLessThan(timeoutMs + 1_900);
    const { killed, failed } = await stopped;
    expect(killed.length + failed.length).toBe(1);
  });
  it('[H369] of one primary leave the port to a second primary of the process whose worker asks to listen on it meanwhile: it listens once the first one\'s workers left, and serves', async () => {
    const port = await freePort();
    const first = testPrimary({ env: { PORT: String(port) }, restart: false }, 'workers/http-server.ts');
    const [worker] = await first.start();
    const dir = mkdtempSync(join(tmpdir(), 'ck-two-primaries-'));
    onCleanup(() => rmSync(dir, { recursive: true, force: true }));
    const unblock = join(dir, 'unblock');
    onCleanup(() => writeFileSync(unblock, ''));
    await expect(first.send(worker!, 'blockUntilFile', { path: unblock })).resolves.toBe('blocking');
    const before = rawTcpHandles();
    const queued = client(port);
    await until(() => rawTcpHandles() >= before + 1, 30_000, 'the primary accepting the connection');
    const shuttingDown = onceEvent(first, 'shutdown');
    const stopped = first.shutdown({ timeoutMs: 20_000 });
    await shuttingDown;
    // The first primary closed its listening socket; its worker, blocked, still holds the port.
    await until(() => isRefused(port), 30_000, 'the port refusing new connections while the first primary drains');
    const second = testPrimary({ env: { PORT: String(port) }, restart: false }, 'workers/http-server.ts');
    const started = second.start();
    // Before: node:cluster added the second primary's worker to the closed socket's handle: told
    // EADDRINUSE (its start failed), or that it listened on a socket that never accepts again.
    // (The start's failure, or a start on the closed socket, ends the wait.)
    await Promise.race([until(() => processListens.waitingListens === 1, 30_000, "the second worker's request to listen held until the first primary's workers left the port"), started]);
    writeFileSync(unblock, '');
    await expect(queued.outcome).resolves.toBe(`pid:${worker!.pid}`);
    const [other] = await started;
    await stopped;
    await expect(client(port).outcome).resolves.toBe(`pid:${other!.pid}`);
  });
});
