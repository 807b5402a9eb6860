/**
 * What a worker's death cuts off when the worker cannot say it: a hung worker killed at the
 * shutdown timeout, a worker killed from outside, a crash. Before, every such report said 0
 * requests cut off (`requestsCut: 0`, "every request got its answer") while its clients lost
 * their requests. The primary now counts what it knows: the requests the worker's tracked
 * servers had open at its last heartbeat (or drain report), and the connections handed to it
 * that it never took. Real workers, real HTTP clients, real signals.
 */
import { describe, expect, it } from '@jest/globals';
import type { WorkerCrashEvent, WorkerExitEvent, WorkerHandle } from '../../src/index.js';
import { recordClusterEvents } from '../../src/control/record-events.js';
import { stopCounts } from '../../src/control/stop-counts.js';
import { describeKilledResets } from '../../src/primary/pool/killed-resets.js';
import { recordOf } from '../../src/primary/pool/worker-handle.js';
import { capturedLogger } from '../helpers/captured-logger.js';
import { getStatus as get } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { testPrimary } from '../helpers/primary.js';
import { onCleanup } from '../helpers/cleanup.js';
import { abandon } from '../helpers/http.js';
import { connect } from 'node:net';
import { onceEvent, record, until } from '../helpers/wait.js';

async function workerWithOpenRequests(count: number, options: Record<string, unknown> = {}) {
  const { logger, text } = capturedLogger();
  const port = await freePort();
  // A short heartbeat: its answers carry the open requests; a long timeout: the test decides when the worker dies.
  const primary = testPrimary({ env: { PORT: String(port) }, logger, heartbeat: { intervalMs: 100, timeoutMs: 60_000 }, ...options }, 'workers/slow-http.ts');
  const [worker] = await primary.start();
  const arrived = record(primary, 'workerMessage');
  const requests = Array.from({ length: count }, () => get(port, '/?ms=600000'));
  await until(() => arrived.events.length === count, 20_000, 'the requests in flight');
  arrived.stop();
  // A heartbeat answer has said so: what the primary knows if the worker can say nothing more.
  await until(() => primary.stats().find((row) => row.id === worker!.id)?.openRequests === count, 20_000, 'the open requests reported by a heartbeat');
  // A `$openRequests` of the first request that crossed that answer is older than it, and dropped (H220).
  return { primary, worker: worker!, port, requests, text };
}

describe('requests cut off by a worker that cannot say so', () => {
  it('[H72][H367] a hung worker killed at the shutdown timeout: requestsCut counts the requests it held, not 0, and its kill line says so', async () => {
    const { primary, worker, port, requests, text } = await workerWithOpenRequests(3);
    // Its next request hangs it: its event loop never turns again, it reports nothing more.
    const arrived = onceEvent(primary, 'workerMessage', 20_000);
    const hung = get(port, '/?hang=1');
    await arrived;
    const report = await primary.shutdown({ timeoutMs: 3_000 });
    expect(report.killed).toHaveLength(1);
    // The 3 it reported, and the hanging one if a heartbeat saw it: at least 3, never 0.
    expect(report.requestsCut).toBeGreaterThanOrEqual(3);
    for (const outcome of await Promise.all([...requests, hung])) expect(outcome).toBe('ECONNRESET');
    expect(text()).toContain(`WARN worker ${worker.id} was killed (SIGKILL) by the primary at the shutdown timeout before it finished stopping; at least `);
    expect(text()).toMatch(new RegExp(`at the shutdown timeout before it finished stopping; at least ${report.requestsCut} requests cut off .*lostRequests=${report.requestsCut}`));
  });

  it('[H72] a crash: workerCrash says how many requests it cut (lostRequests) and the crash line says it', async () => {
    const { primary, worker, requests, text } = await workerWithOpenRequests(2);
    const { log, stop } = recordClusterEvents(primary); // what clusterkit status and the dashboard show
    const crash = onceEvent<WorkerCrashEvent>(primary, 'workerCrash', 20_000);
    process.kill(worker.pid!, 'SIGKILL');
    const event = await crash;
    expect(event.lostRequests).toBe(2);
    for (const outcome of await Promise.all(requests)) expect(outcome).toBe('ECONNRESET');
    // A SIGKILL the primary did not send reads as a kill from outside (H232).
    await until(() => text().includes(`worker ${worker.id} was killed by SIGKILL from outside clusterkit`), 20_000, 'the crash line');
    // Its last report, not its own word at its exit: a lower bound (H228).
    expect(event).toMatchObject({ isLowerBound: true });
    expect(text()).toMatch(new RegExp(`worker ${worker.id} was killed by SIGKILL from outside clusterkit .*; at least 2 requests cut off \\(open as it exited or at its last report, or handed to it and not taken yet\\)`));
    expect(log.read().events).toContainEqual(expect.objectContaining({ type: 'workerRequestsCut', workerId: worker.id, openRequests: 2 }));
    stop();
  });

  it('[H228] a crash under keep-alive load: the line says "at least" and the idle keep-alive connections its death reset besides', async () => {
    const { primary, worker, port, requests, text } = await workerWithOpenRequests(2);
    // Three keep-alive clients between two requests: a crash resets them, and a request one of
    // them had just sent, not read yet, is lost unseen.
    const idle = await Promise.all([0, 1, 2].map(() => keepAliveClient(port)));
    const crash = onceEvent<WorkerCrashEvent>(primary, 'workerCrash', 30_000, (event) => event.worker === worker);
    const thrown = get(port, '/?throw=1');
    const event = await crash;
    // Its own count at its exit: the 2 held and the one that threw; the 3 idle ones besides.
    expect(event).toMatchObject({ lostRequests: 3, isLowerBound: true, resetConnections: 3 });
    for (const outcome of await Promise.all([...requests, thrown])) expect(outcome).toBe('ECONNRESET');
    await Promise.all(idle.map((client) => client.closed));
    await until(() => text().includes(`worker ${worker.id} crashed`), 20_000, 'the crash line');
    // Before: "3 requests cut off", as exact, where its clients lost 6.
    expect(text()).toContain('; at least 3 requests cut off (open as it exited or at its last report, or handed to it and not taken yet) and 3 more open connections reset (idle keep-alive connections: a request already sent on one is lost too)');
  });

  it('[H220] a $openRequests that crossed the heartbeat ping is older than the answer read after it: the crash counts the answer\'s 2, not the notice\'s 1', async () => {
    const port = await freePort();
    // A short heartbeat; a long timeout: the worker blocks once it answered, and the test kills it.
    const primary = testPrimary({ env: { PORT: String(port), CROSS_PING: '1' }, heartbeat: { intervalMs: 100, timeoutMs: 60_000 } }, 'workers/slow-http.ts');
    const [worker] = await primary.start();
    const crossed = onceEvent<{ type: string }>(primary, 'workerMessage', 30_000, (event) => event.type === 'crossed');
    const requests = [get(port, '/?ms=600000'), get(port, '/?ms=600000')];
    // Written after the answer: both are read before the exit below, and nothing follows them.
    await crossed;
    const crash = onceEvent<WorkerCrashEvent>(primary, 'workerCrash', 30_000, (event) => event.worker === worker);
    process.kill(worker!.pid!, 'SIGKILL');
    // Before: 1, the notice read while the ping was on its way was taken as newer than the answer.
    expect((await crash).lostRequests).toBe(2);
    for (const outcome of await Promise.all(requests)) expect(outcome).toBe('ECONNRESET');
  });

  it('[H433] a worker that dies just after its heartbeat answer, while the primary reads its RSS: the crash counts the answer\'s 2, not the older notice\'s 1', async () => {
    const port = await freePort();
    const primary = testPrimary({ env: { PORT: String(port), CROSS_PING: 'die' }, heartbeat: { intervalMs: 100, timeoutMs: 60_000 } }, 'workers/slow-http.ts');
    const [worker] = await primary.start();
    const crash = onceEvent<WorkerCrashEvent>(primary, 'workerCrash', 30_000, (event) => event.worker === worker);
    const requests = [get(port, '/?ms=600000'), get(port, '/?ms=600000')];
    // Before: often 1: the crash was handled before the answer, which waited for the primary's
    // read of the worker's RSS, was taken as newer than the notice.
    expect((await crash).lostRequests).toBe(2);
    for (const outcome of await Promise.all(requests)) expect(outcome).toBe('ECONNRESET');
  });

  it('[H95] a worker that exits with code 0 on its own while serving: no crash, but its lost requests are told as cut off, and it is restarted', async () => {
    const { primary, worker, port, requests, text } = await workerWithOpenRequests(2);
    const { log, stop } = recordClusterEvents(primary); // what clusterkit status and the dashboard show
    const crashes = record(primary, 'workerCrash');
    const cut = onceEvent<{ worker: WorkerHandle; openRequests: number; reason: string }>(primary, 'workerRequestsCut', 20_000);
    const restarted = onceEvent(primary, 'workerRestart', 20_000);
    const exiting = get(port, '/?exit=0');
    const event = await cut;
    // Before: nothing said of them; the clients were reset all the same.
    expect(event).toMatchObject({ worker, reason: 'unexpected-exit' });
    // The 2 its last heartbeat reported, and the exiting request if a heartbeat saw it.
    expect(event.openRequests).toBeGreaterThanOrEqual(2);
    await restarted;
    expect(crashes.events).toEqual([]);
    crashes.stop();
    for (const outcome of await Promise.all([...requests, exiting])) expect(outcome).toBe('ECONNRESET');
    expect(text()).toContain(`WARN worker ${worker.id} exited with code 0 on its own with ${event.openRequests} requests open: they were cut off (open as it exited or at its last report`);
    expect(log.read().events).toContainEqual(expect.objectContaining({ type: 'workerRequestsCut', workerId: worker.id, openRequests: event.openRequests }));
    stop();
  });

  it('[H72] a worker killed from outside while it drains: its stop is failed and its open requests are counted as cut', async () => {
    const { primary, worker, requests, text } = await workerWithOpenRequests(2);
    const exit = onceEvent<{ killed: boolean }>(primary, 'workerExit', 20_000);
    const shutdown = primary.shutdown({ timeoutMs: 60_000 });
    // Its drain began (it waits for its 2 requests); then someone kills it.
    await until(() => worker.state === 'stopping', 20_000, 'the stop under way');
    process.kill(worker.pid!, 'SIGKILL');
    const report = await shutdown;
    expect(report.failed.map((handle) => handle.id)).toEqual([worker.id]);
    // Before: 0, "every request got its answer".
    expect(report.requestsCut).toBe(2);
    for (const outcome of await Promise.all(requests)) expect(outcome).toBe('ECONNRESET');
    // Not the primary's kill: the line and the event say so.
    await expect(exit).resolves.toMatchObject({ killed: false });
    expect(text()).toContain(`WARN worker ${worker.id} was ended by SIGKILL during its stop, before it finished stopping; the primary did not send it; likely sources: clusterkit's orphan watchdog in the worker`);
  });
});

describe('a worker killed by the hang detection', () => {
  it('[H121] a request whose handler blocks the event loop at once, after a quiet spell: the kill counts it (lostRequests 1), its line says so', async () => {
    const { logger, text } = capturedLogger();
    const port = await freePort();
    const primary = testPrimary({ env: { PORT: String(port) }, logger, heartbeat: { intervalMs: 200, timeoutMs: 2_000 } }, 'workers/slow-http.ts');
    const [worker] = await primary.start();
    // Idle, and a heartbeat answer said so: the primary's count is 0 when the request comes.
    await until(() => primary.stats().find((row) => row.id === worker!.id)?.openRequests === 0, 20_000, 'a heartbeat answer');
    const unresponsive = onceEvent(primary, 'workerUnresponsive', 30_000);
    const crash = onceEvent<WorkerCrashEvent>(primary, 'workerCrash', 30_000, (event) => event.worker === worker);
    const blocked = get(port, '/?spin=1');
    await unresponsive;
    // Before: 0 (absent from the line), as no heartbeat answer could count it.
    expect((await crash).lostRequests).toBe(1);
    expect(await blocked).toBe('ECONNRESET');
    await until(() => text().includes(`worker ${worker!.id} was killed (SIGKILL) by the primary`), 20_000, 'the kill line');
    // On the kill's own line since H367 (before: a second line, "worker N's kill: ...").
    expect(text()).toMatch(new RegExp(`WARN worker ${worker!.id} was killed \\(SIGKILL\\) by the primary: it did not answer heartbeats for \\d+ ms(?:, \\d+ ms of them while the primary itself was blocked)?; at least 1 request cut off \\(open as it exited or at its last report, or handed to it and not taken yet\\)`));
  });

  it('[H367] a hung worker with idle keep-alive clients: the kill line, workerExit and the event log count the idle connections it reset, not nothing', async () => {
    const { logger, text } = capturedLogger();
    const port = await freePort();
    const primary = testPrimary({ env: { PORT: String(port) }, logger, heartbeat: { intervalMs: 200, timeoutMs: 2_000 } }, 'workers/slow-http.ts');
    const { log, stop } = recordClusterEvents(primary); // the event log the dashboard's timeline shows
    onCleanup(stop);
    const [worker] = await primary.start();
    // Three keep-alive clients between requests, as the tester's load had 12: the kill resets them all.
    const idle = await Promise.all([0, 1, 2].map(() => keepAliveClient(port)));
    // A heartbeat answer after their answers: the worker has seen all three go idle.
    const answered = Date.now();
    await until(() => {
      const row = primary.stats().find((entry) => entry.id === worker!.id);
      return row?.healthAgeMs !== undefined && Date.now() - row.healthAgeMs > answered;
    }, 20_000, 'a heartbeat answer after the idle clients');
    const exit = onceEvent<WorkerExitEvent>(primary, 'workerExit', 30_000, (event) => event.worker === worker);
    const blocked = get(port, '/?spin=1');
    const event = await exit;
    // Before: no count at all on the exit, and only a second line of its own. The blocked request
    // is counted when the worker told of it before its loop stopped (a report at most every
    // 100 ms: under two CPU hogs it may not have): a hung worker's count is a lower bound.
    expect(event).toMatchObject({ killed: true, expected: false, isLowerBound: true, resetConnections: 3 });
    const lost = event.lostRequests!;
    expect([0, 1]).toContain(lost);
    expect(await blocked).toBe('ECONNRESET');
    await Promise.all(idle.map((client) => client.closed));
    const cutText =
      lost === 1 ? 'at least 1 request cut off \\(open as it exited or at its last report, or handed to it and not taken yet\\) and at least 3 more open connections reset' : 'at least 3 open connections reset';
    expect(text()).toMatch(
      new RegExp(
        `WARN worker ${worker!.id} was killed \\(SIGKILL\\) by the primary: it did not answer heartbeats for \\d+ ms(?:, \\d+ ms of them while the primary itself was blocked)?; ${cutText}, with no request on them at its last report: a request sent on one since \\(as to a hung worker\\) is lost too, and in no count .*lostRequests=${lost} resetConnections=3`,
      ),
    );
    expect(text()).not.toContain(`worker ${worker!.id}'s kill`);
    await until(() => log.read().events.some((entry) => entry.type === 'workerRequestsCut' && entry.workerId === worker!.id), 20_000, 'the recorded cut');
    expect(log.read().events.filter((entry) => entry.type === 'workerRequestsCut' && entry.workerId === worker!.id)).toEqual([expect.objectContaining({ openRequests: lost, resetConnections: 3 })]);
  });

  it('[H367][H590] a kill that cut no request but reset idle connections is recorded as a cut too, its line saying they were idle only at its last report', async () => {
    const { logger, text } = capturedLogger();
    const port = await freePort();
    // The tester's app: it answers, then blocks its loop a moment later, every request done.
    const primary = testPrimary({ env: { PORT: String(port) }, logger, heartbeat: { intervalMs: 200, timeoutMs: 2_000 } }, 'workers/slow-http.ts');
    const { log, stop } = recordClusterEvents(primary);
    onCleanup(stop);
    const [worker] = await primary.start();
    const idle = await Promise.all([0, 1].map(() => keepAliveClient(port)));
    // A heartbeat answer after the idle clients: 0 open, 2 idle.
    await until(() => primary.stats().find((row) => row.id === worker!.id)?.openRequests === 0, 20_000, 'a heartbeat answer');
    const exit = onceEvent<WorkerExitEvent>(primary, 'workerExit', 30_000, (event) => event.worker === worker);
    // Answered: the client is served; 200 ms later the loop blocks with nothing open but the idle clients.
    expect(await get(port, '/?hangAfter=200')).toBe(200);
    const event = await exit;
    // Before: nothing on the exit, nothing recorded (the tester's 12 resets, lostRequests=0).
    expect(event).toMatchObject({ killed: true, lostRequests: 0 });
    expect(event.resetConnections).toBeGreaterThanOrEqual(2);
    await Promise.all(idle.map((client) => client.closed));
    await until(() => log.read().events.some((entry) => entry.type === 'workerRequestsCut' && entry.workerId === worker!.id), 20_000, 'the recorded cut');
    expect(text()).toMatch(new RegExp(`WARN worker ${worker!.id} was killed \\(SIGKILL\\) by the primary: it did not answer heartbeats for \\d+ ms(?:, \\d+ ms of them while the primary itself was blocked)?; .*open connections? reset`));
    // Ops t60: "4 open connections reset (idle keep-alive connections ...)", lostRequests=0, where a
    // hung worker's clients had sent 2 requests on them: idle at its last report only, at least that many.
    expect(text()).toMatch(new RegExp(`by the primary: it did not answer heartbeats for .*; at least ${event.resetConnections} open connections reset, with no request on them at its last report: a request sent on one since \\(as to a hung worker\\) is lost too, and in no count`));
    expect(text()).not.toContain('idle keep-alive connections');
  });

  it('[H609][H630] a stop that kills a hung worker counts the open connections the kill reset, in its report line and its control answer', async () => {
    const { logger, text } = capturedLogger();
    const port = await freePort();
    // No heartbeat kill: the stop's timeout kills it.
    const primary = testPrimary({ env: { PORT: String(port) }, logger, heartbeat: { intervalMs: 200, timeoutMs: 120_000 }, shutdownTimeoutMs: 1_500 }, 'workers/slow-http.ts');
    const [worker] = await primary.start();
    const idle = await Promise.all([0, 1].map(() => keepAliveClient(port)));
    // A heartbeat answer after the idle clients: 2 idle.
    await until(() => (recordOf(worker)?.health?.idleConnections ?? 0) >= 2, 20_000, 'a heartbeat answer with the idle clients');
    // Answered; then its loop blocks for good, the idle clients still connected.
    expect(await get(port, '/?hangAfter=0')).toBe(200);
    const report = await primary.shutdown();
    expect(report.killed).toEqual([worker]);
    await Promise.all(idle.map((client) => client.closed));
    // Ops t61: `stopped api: 1 worker stopped gracefully, 1 killed (...)`, no word of the 5 requests its clients lost.
    const counts = stopCounts(report);
    expect(counts.killedConnectionsReset).toBeGreaterThanOrEqual(2);
    // [H630] In the library's report too (retest t61 L7: a library user had to add up workerExit.resetConnections).
    expect(report.killedConnectionsReset).toBe(counts.killedConnectionsReset);
    expect(text()).toMatch(new RegExp(`shutdown complete: 1 worker did not stop cleanly, at least ${counts.killedConnectionsReset} open connections reset by the kill \\(idle at the killed worker's last report; a request sent on one since is lost too\\).*killedConnectionsReset=${counts.killedConnectionsReset}`));
    // One text for the line and the CLI's answers (the CLI puts `, and ` before it).
    expect(describeKilledResets(counts.killedConnectionsReset!)).toBe(`at least ${counts.killedConnectionsReset} open connections reset by the kill (idle at the killed worker's last report; a request sent on one since is lost too)`);
    expect(describeKilledResets(3, 2)).toBe("at least 3 open connections reset by the kills (idle at the killed workers' last reports; a request sent on one since is lost too)");
  });
});

/**
 * A keep-alive client that got its first answer and keeps its connection open, idle; `closed`
 * settles once the server's side ends it.
 */
async function keepAliveClient(port: number): Promise<{ closed: Promise<void> }> {
  const socket = connect(port, '127.0.0.1');
  const release = onCleanup(() => abandon(socket));
  socket.on('error', () => {});
  const closed = new Promise<void>((resolve) => socket.once('close', () => resolve()));
  void closed.then(release);
  socket.write('GET /?ms=0 HTTP/1.1\r\nHost: x\r\n\r\n');
  let answer = '';
  await new Promise<void>((resolve, reject) => {
    const onData = (chunk: Buffer) => {
      answer += chunk.toString('latin1');
      // Its pid as the body, after the headers: the answer is whole.
      if (/\r\n\r\n\d+$/.test(answer)) {
        socket.off('data', onData);
        resolve();
      }
    };
    socket.on('data', onData);
    socket.once('close', () => reject(new Error(`the keep-alive connection closed before its answer: ${JSON.stringify(answer)}`)));
  });
  socket.resume();
  return { closed };
}
