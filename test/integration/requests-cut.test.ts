/**
 * The library's side of a request cut off at the worker's own stop deadline: stopWorker() says
 * `failed`, `workerRequestsCut` names the worker and the count, the default logger says it, and
 * a request that finishes within the timeout still gets its answer.
 */
import net from 'node:net';
import { describe, expect, it } from '@jest/globals';
import { wholeMs } from '../../src/whole-ms.js';
import { WorkerExitedError, type WorkerHandle } from '../../src/index.js';
import { capturedLogger } from '../helpers/captured-logger.js';
import { getStatus as get } from '../helpers/http.js';
import { onCleanup } from '../helpers/cleanup.js';
import { freePort } from '../helpers/ports.js';
import { testPrimary } from '../helpers/primary.js';
import { onceEvent, record, until } from '../helpers/wait.js';

describe('requests cut off at the stop deadline', () => {
  it('[F53] stopWorker() resolves failed; workerRequestsCut and a log line name the worker and the count', async () => {
    const { logger, text } = capturedLogger();
    const port = await freePort();
    const primary = testPrimary({ env: { PORT: String(port) }, logger }, 'workers/slow-http.ts');
    const [worker] = await primary.start();
    const cut = onceEvent<{ worker: WorkerHandle; openRequests: number; timeoutMs: number }>(primary, 'workerRequestsCut', 20_000);
    const arrived = record(primary, 'workerMessage');
    const long = get(port, '/?ms=600000');
    const short = get(port, '/?ms=300');
    await until(() => arrived.events.length === 2, 20_000, 'both requests in flight');
    arrived.stop();
    // 4 s: the worker's own deadline is 1 s earlier; the short request needs 300 ms of it.
    await expect(primary.stopWorker(worker!, { timeoutMs: 4_000 })).resolves.toBe('failed');
    const event = await cut;
    expect(event).toMatchObject({ worker, openRequests: 1 });
    expect(event.timeoutMs).toBeGreaterThan(0);
    expect(event.timeoutMs).toBeLessThanOrEqual(3_000);
    await expect(short).resolves.toBe(200);
    await expect(long).resolves.toBe('ECONNRESET');
    expect(text()).toContain(`[t] WARN worker ${worker!.id} cut off 1 request still open at its shutdown deadline (${wholeMs(event.timeoutMs)} ms after its stop began); it exits with code 1.`);
    // Retest t68b: `Raise the shutdownTimeoutMs option`, which this stop did not use.
    expect(text()).toContain('it exits with code 1. Give stopWorker() a longer timeoutMs if requests take longer');
  });

  // Hostile t69: a worker blocked with two of the primary's requests in flight, killed at the
  // shutdown timeout: both callers got WorkerExitedError, and the report said `requestsCut: 0`,
  // while the same requests' handlers cut at the worker's own deadline were counted.
  it("[H686] the primary's requests a worker killed at its stop's timeout never answered count as cut, in the report and the kill line", async () => {
    const { logger, text } = capturedLogger();
    const primary = testPrimary({ heartbeat: false, logger });
    const [worker] = await primary.start();
    const running = onceEvent(primary, 'workerMessage', 20_000);
    const hung = primary.send(worker!, 'hang', { announce: true }, { timeoutMs: 60_000 }).catch((error: unknown) => error);
    await running;
    const blocked = primary.send(worker!, 'block', { ms: -1 }, { timeoutMs: 60_000 }).catch((error: unknown) => error);
    const report = await primary.shutdown({ timeoutMs: 1_500 });
    expect(report.killed).toHaveLength(1);
    expect(report.requestsCut).toBe(2);
    for (const error of [await hung, await blocked]) expect(error).toBeInstanceOf(WorkerExitedError);
    expect(text()).toMatch(new RegExp(`WARN worker ${worker!.id} was killed \\(SIGKILL\\) by the primary at the shutdown timeout before it finished stopping; (at least )?2 requests cut off .*lostRequests=2`));
    expect(text()).toMatch(/shutdown complete: 1 worker did not stop cleanly, 2 requests cut off .*requestsCut=2/);
  });

  // Retest t68b: a stopWorker() with its own timeout said `killed (SIGKILL) by the primary at the
  // shutdown timeout` and `Raise the shutdownTimeoutMs option`; a shutdown() with its own named the option too.
  it("[H683] the lines of a stop name the timeout it used: stopWorker()'s or shutdown()'s own, else the shutdownTimeoutMs option", async () => {
    const { logger, text } = capturedLogger();
    const primary = testPrimary({ workerCount: 2, heartbeat: false, logger });
    const [blocked, hanging] = await primary.start();
    await expect(primary.send(blocked!, 'blockSoon', { ms: -1 })).resolves.toBe('blocking');
    await expect(primary.stopWorker(blocked!, { timeoutMs: 1_000 })).resolves.toBe('killed');
    expect(text()).toContain(`WARN worker ${blocked!.id} was killed (SIGKILL) by the primary at stopWorker()'s timeout before it finished stopping. Its stop had 1000 ms: give stopWorker() a longer timeoutMs if it needs longer`);
    expect(text()).not.toContain('at the shutdown timeout');
    const running = onceEvent(primary, 'workerMessage', 20_000);
    const hung = primary.send(hanging!, 'hang', { announce: true }, { timeoutMs: 60_000 }).catch((error: unknown) => error);
    await running; // its handler runs: the stop waits for it
    const cut = onceEvent(primary, 'workerRequestsCut', 20_000);
    await primary.shutdown({ timeoutMs: 2_000 });
    await cut;
    await hung;
    expect(text()).toMatch(/at its shutdown deadline \(\d+ ms after its stop began\).*Give shutdown\(\) a longer timeoutMs if handlers take longer/);
    expect(text()).not.toContain('Raise the shutdownTimeoutMs option');
  });

  it.each(['1', 'now'])('[H92] a process.exit(0) in user code during the stop (EXIT_ON_SHUTDOWN=%s), with requests open, is a failed stop that names the requests cut, not a graceful one', async (when) => {
    const { logger, text } = capturedLogger();
    const port = await freePort();
    const primary = testPrimary({ env: { PORT: String(port), EXIT_ON_SHUTDOWN: when }, logger }, 'workers/slow-http.ts');
    const [worker] = await primary.start();
    const cut = onceEvent<{ worker: WorkerHandle; openRequests: number; timeoutMs?: number }>(primary, 'workerRequestsCut', 20_000);
    const arrived = record(primary, 'workerMessage');
    const long = get(port, '/?ms=600000');
    await until(() => arrived.events.length === 1, 20_000, 'the request in flight');
    arrived.stop();
    // Before: 'graceful' and requestsCut 0, the client reset all the same.
    const report = await primary.shutdown({ timeoutMs: 20_000 });
    expect(report).toEqual({ graceful: [], failed: [worker], killed: [], requestsCut: 1 });
    await expect(cut).resolves.toMatchObject({ worker, openRequests: 1, reason: 'exit' });
    await expect(long).resolves.toBe('ECONNRESET');
    expect(text()).toContain(`[t] WARN worker ${worker!.id} exited with 1 request still open: they were cut off (code in the worker exited before they finished`);
  });

  it.each([
    ['server.closeAllConnections()', '1'],
    // hostile17: an end (FIN) is answered by the client's own end, which passed for the client leaving.
    ['socket.end() on each connection', 'end'],
  ])('[H94] a shutdown listener that calls %s with requests open: a failed stop that names the requests it cut, not a graceful one', async (_how, mode) => {
    const { logger, text } = capturedLogger();
    const port = await freePort();
    const primary = testPrimary({ env: { PORT: String(port), CLOSE_ON_SHUTDOWN: mode }, logger }, 'workers/slow-http.ts');
    const [worker] = await primary.start();
    const cut = onceEvent<{ worker: WorkerHandle; openRequests: number; timeoutMs?: number; reason: string }>(primary, 'workerRequestsCut', 20_000);
    const arrived = record(primary, 'workerMessage');
    const long = [get(port, '/?ms=600000'), get(port, '/?ms=600000')];
    await until(() => arrived.events.length === 2, 20_000, 'the requests in flight');
    arrived.stop();
    // Before: 'graceful' and requestsCut 0, while both clients were reset mid-response.
    const report = await primary.shutdown({ timeoutMs: 20_000 });
    expect(report).toEqual({ graceful: [], failed: [worker], killed: [], requestsCut: 2 });
    const event = await cut;
    expect(event).toMatchObject({ worker, openRequests: 2, reason: 'closed' });
    expect(event.timeoutMs).toBeUndefined();
    expect(await Promise.all(long)).toEqual(['ECONNRESET', 'ECONNRESET']);
    expect(text()).toContain(`[t] WARN worker ${worker!.id} cut off 2 requests during its stop: code in the worker closed their connections before the responses finished`);
    expect(text()).toContain(`worker ${worker!.id} did not stop cleanly: it exited with code 1`);
  });

  it('[H94] a client that goes away mid-response during the stop is not counted as cut by the worker', async () => {
    const port = await freePort();
    const primary = testPrimary({ env: { PORT: String(port) }, shutdownTimeoutMs: 20_000 }, 'workers/slow-http.ts');
    const [worker] = await primary.start();
    const arrived = record(primary, 'workerMessage');
    const cuts = record(primary, 'workerRequestsCut');
    const client = net.connect(port, '127.0.0.1');
    client.on('error', () => {});
    onCleanup(() => client.destroy());
    client.write('GET /?ms=1500 HTTP/1.1\r\nHost: x\r\n\r\n');
    await until(() => arrived.events.length === 1, 20_000, 'the request in flight');
    arrived.stop();
    const stopping = primary.shutdown();
    await until(() => worker!.state === 'stopping', 20_000, 'the stop under way');
    // The client leaves before its answer: its own doing, not the worker's.
    client.destroy();
    const report = await stopping;
    expect(report).toEqual({ graceful: [worker], failed: [], killed: [], requestsCut: 0 });
    expect(cuts.events).toEqual([]);
    cuts.stop();
  });

  it('[H49] a slowloris connection cut at the deadline counts as a request cut off: bytes of a request arrived, no answer went out', async () => {
    const port = await freePort();
    const primary = testPrimary({ env: { PORT: String(port) }, shutdownTimeoutMs: 6_000 }, 'workers/http-server.ts');
    const [worker] = await primary.start();
    const slowloris = net.connect(port, '127.0.0.1');
    slowloris.on('error', () => {});
    onCleanup(() => slowloris.destroy());
    const closed = new Promise((resolve) => slowloris.on('close', resolve));
    // Headers that never end: the worker waits for the request until its deadline (4 s of 6 s).
    slowloris.write('GET / HTTP/1.1\r\nHost: x\r\nX-Slow: 1\r\n');
    // Held by the worker (its connection is tracked) once a plain request on it got through.
    await until(async () => (await get(port, '/')) === 200, 20_000, 'the worker serving');
    const cut = onceEvent<{ worker: WorkerHandle; openRequests: number }>(primary, 'workerRequestsCut', 20_000);
    const report = await primary.shutdown();
    await closed;
    expect((await cut).openRequests).toBe(1);
    // Before: "graceful", 0 requests cut off, while the client's request got no answer.
    expect(report.requestsCut).toBe(1);
    expect(report.failed.map((handle) => handle.id)).toEqual([worker!.id]);
  });
});
