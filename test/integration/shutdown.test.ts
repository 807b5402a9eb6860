import http from 'node:http';
import { describe, expect, it } from '@jest/globals';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ShutdownInProgressError, type ClusterPrimary, type WorkerHandle } from '../../src/index.js';
import type { ToPrimary, ToWorker } from '../fixtures/protocol.js';
import { capturedLogger } from '../helpers/captured-logger.js';
import { onCleanup } from '../helpers/cleanup.js';
import { abandon } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { testPrimary } from '../helpers/primary.js';
import { waitUntilGone } from '../helpers/processes.js';
import { kPatienceMs, onceEvent, record, until } from '../helpers/wait.js';
import { spawnScript } from '../helpers/spawn.js';

async function httpPrimary(extra = {}): Promise<{ primary: ClusterPrimary<ToWorker, ToPrimary>; port: number }> {
  const port = await freePort();
  const primary = testPrimary({ env: { PORT: String(port) }, ...extra }, 'workers/http-server.ts');
  await primary.start();
  return { primary, port };
}

/** Resolves once the workers have received `count` requests sent with `announce=1` (call it before sending them). */
function announced(primary: ClusterPrimary<ToWorker, ToPrimary>, count: number): Promise<unknown> {
  let seen = 0;
  return onceEvent(primary, 'workerMessage', 30_000, (message: { type: string; payload: { event: string } }) => message.type === 'lifecycle' && message.payload.event === 'request' && ++seen === count);
}

function request(port: number, path: string, agent: http.Agent | false = false): Promise<{ status: number; body: string; connection: string | undefined }> {
  return new Promise((resolve, reject) => {
    const pending = http
      .get({ host: '127.0.0.1', port, path, agent }, (response) => {
        let body = '';
        response.on('data', (chunk: Buffer) => (body += chunk.toString()));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, body, connection: response.headers.connection }));
      })
      .on('error', reject);
    onCleanup(() => abandon(pending));
  });
}

describe('graceful shutdown', () => {
  it('[F14][F46] kills a worker that ignores the stop at the timeout and reports it; shutdown resolves once', async () => {
    const primary = testPrimary({ workerCount: 2 });
    const [fine, hanging] = await primary.start();
    // A blocked event loop never sees the stop request.
    primary.notify(hanging!, 'block', { ms: -1 });
    const completions = record(primary, 'shutdownComplete');
    const startedAt = Date.now();
    // Long enough for the healthy worker to stop on its own on a busy machine.
    const report = await primary.shutdown({ timeoutMs: 3_000 });
    // Bounded: the 3 s deadline, then the kill and its reaping (at most 5 s more).
    expect(Date.now() - startedAt).toBeLessThan(15_000);
    expect(report.killed).toEqual([hanging]);
    expect(report.graceful).toEqual([fine]);
    expect(hanging!.signal).toBe('SIGKILL');
    expect(completions.events).toHaveLength(1);
    await waitUntilGone([hanging!.pid, fine!.pid]);
  });

  it('[F16] lets in-flight HTTP requests finish, then closes; afterwards only the other worker answers', async () => {
    const { primary, port } = await httpPrimary({ workerCount: 2 });
    const [first, second] = primary.workers;
    const arrived = announced(primary, 2);
    const inFlight = [request(port, '/?delay=600&announce=1'), request(port, '/?delay=600&announce=1')];
    await arrived;
    const stopping = primary.stopWorker(first!);
    // Until the worker has processed the stop, the primary may still route to it: it answers those too.
    const during = await Promise.all([request(port, '/'), request(port, '/')]);
    expect(during.map((response) => response.status)).toEqual([200, 200]);
    expect((await Promise.all(inFlight)).map((response) => response.status)).toEqual([200, 200]);
    await expect(stopping).resolves.toBe('graceful');
    const after = await Promise.all([request(port, '/'), request(port, '/'), request(port, '/')]);
    expect(after.map((response) => response.body)).toEqual(Array(3).fill(`pid:${second!.pid}`));
  });

  it('[F16] loses no connection that Node hands to a stopping worker before the primary has read its close', async () => {
    const { primary, port } = await httpPrimary({ workerCount: 2 });
    const [stopping] = primary.workers;
    const client = spawnScript('test/fixtures/load-client.ts', { args: [String(port), '10', '/', 'close'] });
    const served = () => client.stdout().match(/^served \d+$/gm)?.length ?? 0;
    await until(() => served() >= 1, kPatienceMs, 'requests served');
    const stopped = primary.stopWorker(stopping!);
    await new Promise((resolve) => process.nextTick(resolve)); // the stop request is written
    // The primary is busy (as under load) while the worker closes its server and stops, and
    // new connections queue in the primary's backlog. Back at work, Node's cluster hands some to
    // the stopping worker before it reads that worker's close: had the worker exited already,
    // those connections would be lost, their clients waiting forever.
    const busyUntil = Date.now() + 3_000;
    while (Date.now() < busyUntil) {
      // the primary's event loop is busy
    }
    await expect(stopped).resolves.toBe('graceful');
    const before = served();
    await until(() => served() > before, kPatienceMs, 'the other worker serving on');
    client.child.kill('SIGTERM');
    const [line] = await client.waitFor(/\{.*\}/);
    expect(JSON.parse(line)).toMatchObject({ failed: 0, errors: {} });
  });

  it('[F17] closes idle keep-alive connections at once instead of waiting for keepAliveTimeout', async () => {
    const { primary, port } = await httpPrimary();
    const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
    try {
      const arrived = announced(primary, 1);
      const slow = request(port, '/?delay=400&announce=1', agent);
      await arrived;
      const startedAt = Date.now();
      const shutdown = primary.shutdown({ timeoutMs: 15_000 });
      const response = await slow;
      expect(response.status).toBe(200);
      expect(response.connection).toBe('close');
      const report = await shutdown;
      // Without draining, the keep-alive socket (keepAliveTimeout 60 s in the fixture) would hold
      // the worker until the 15 s deadline killed it.
      expect(report.killed).toEqual([]);
      expect(Date.now() - startedAt).toBeLessThan(10_000);
    } finally {
      agent.destroy();
    }
  });

  it('[F16][F53] honours the deadline when a connection never ends: the request is cut off and counted, the stop is not graceful', async () => {
    const { primary, port } = await httpPrimary();
    const arrived = announced(primary, 1);
    const never = request(port, '/?delay=600000&announce=1').catch((e: Error) => e);
    await arrived;
    const startedAt = Date.now();
    const report = await primary.shutdown({ timeoutMs: 1_500 });
    expect(Date.now() - startedAt).toBeLessThan(15_000);
    // The request was cut off: not a graceful stop, and the report counts it.
    expect(report.failed.length + report.killed.length).toBe(1);
    expect(report.requestsCut).toBe(1);
    await expect(never).resolves.toHaveProperty('code', 'ECONNRESET');
  });

  it('cuts a hanging _destroy at the deadline: the worker exits 1 on its own', async () => {
    const primary = testPrimary({}, 'workers/destroy-hangs.ts');
    const [worker] = await primary.start();
    const exit = onceEvent(primary, 'workerExit');
    // The worker gives up on its _destroy at its own deadline, shorter than the primary's by
    // min(2 s, timeoutMs / 4): 2 s here, room enough on a busy machine to exit before a kill.
    const report = await primary.shutdown({ timeoutMs: 8_000 });
    await expect(exit).resolves.toMatchObject({ worker, code: 1, expected: true });
    expect(report).toEqual({ graceful: [], failed: [worker], killed: [], requestsCut: 0 });
  });

  it('stops one worker without a replacement; it refuses new messages while stopping', async () => {
    const primary = testPrimary({ workerCount: 2 });
    const [worker, other] = await primary.start();
    const slow = primary.send(worker!, 'slow', { ms: 300 });
    await primary.send(worker!, 'echo', 'queued');
    const stopping = primary.stopWorker(worker!, { timeoutMs: 5_000 });
    const refused = await primary.send(worker!, 'echo', 'too late').catch((e: unknown) => e);
    // A ShutdownInProgressError itself (H479), not a RemoteError naming one.
    expect(refused).toBeInstanceOf(ShutdownInProgressError);
    await expect(slow).resolves.toBe('done');
    await expect(stopping).resolves.toBe('graceful');
    expect(primary.workers).toEqual([other]);
  });

  it('[F18][F42] classifies an exit during a requested stop as expected, whatever the code', async () => {
    const primary = testPrimary();
    const [worker] = await primary.start();
    const crashes = record(primary, 'workerCrash');
    const exit = onceEvent(primary, 'workerExit');
    await primary.shutdown();
    await expect(exit).resolves.toMatchObject({ expected: true });
    expect(crashes.events).toEqual([]);
    expect(worker!.state).toBe('exited');
  });

  it('[H188] takes the $exiting of a worker that fails its start as the shutdown begins for what it is, not for a break of the IPC protocol', async () => {
    const { logger, text } = capturedLogger();
    const directory = mkdtempSync(join(tmpdir(), 'clusterkit-'));
    onCleanup(() => rmSync(directory, { recursive: true, force: true }));
    const gate = join(directory, 'gate');
    const primary = testPrimary({ restart: false, logger, env: { EXIT_GATE_FILE: gate } }, 'workers/init-blocks-then-throws.ts');
    const protocolErrors = record(primary, 'workerProtocolError');
    const listening = onceEvent<{ worker: WorkerHandle }>(primary, 'workerListening', 60_000);
    const started = primary.start().catch((error: unknown) => error);
    // It listens, then blocks in _init: the stop request will wait unread in its channel.
    const { worker } = await listening;
    const shutdown = primary.shutdown();
    // Marked stopping in the turn its stop request is written.
    await until(() => worker.state === 'stopping', 30_000, 'the worker asked to stop');
    writeFileSync(gate, 'now'); // its _init throws; its exit says `$exiting` without reading the request
    const report = await shutdown;
    expect(await started).toBeInstanceOf(ShutdownInProgressError);
    expect(worker.exitCode).toBe(1);
    // Before: `sent "$exiting" at a time its state rules out, which breaks clusterkit's IPC protocol`.
    expect(protocolErrors.events).toEqual([]);
    expect(text()).not.toContain('IPC protocol');
    expect(report).toMatchObject({ graceful: [], failed: [], killed: [], notStarted: [worker], interrupted: 'start' });
  });
});
