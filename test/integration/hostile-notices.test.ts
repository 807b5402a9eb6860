/**
 * A worker's IPC channel is untrusted input to the primary: what a worker sends besides its
 * messages (handles), and the system notices that write its report (`$crash`, `$exiting`,
 * `$requestsCut`, `$stopped`, `$destroyFailed`). Real workers, real sockets, real exits.
 */
import { readdirSync } from 'node:fs';
import { totalmem } from 'node:os';
import { describe, expect, it } from '@jest/globals';
import type { WorkerCrashEvent, WorkerHandle } from '../../src/index.js';
import { capturedLogger } from '../helpers/captured-logger.js';
import { getStatus as get } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { testPrimary } from '../helpers/primary.js';
import { onceEvent, record, until } from '../helpers/wait.js';

/** File descriptors open in this process, the primary's. */
function openDescriptors(): number {
  return readdirSync('/proc/self/fd').length;
}

describe('handles a worker sends', () => {
  it('[H115] 2000 sockets and servers sent with process.send(message, handle): closed, the primary\'s descriptors stay bounded, one warning names the worker', async () => {
    const { logger, text } = capturedLogger();
    const before = openDescriptors();
    const primary = testPrimary({ logger, env: { HANDLES: '2000' } }, 'workers/sends-handles.ts');
    const sent = onceEvent<{ worker: WorkerHandle; type: string }>(primary, 'workerMessage', 120_000, (event) => event.type === 'sent');
    const [worker] = await primary.start();
    await sent;
    // Before: about 2000 more, one per handle, until EMFILE; nothing said.
    await until(() => openDescriptors() < before + 50, 20_000, 'the handles closed');
    const [row] = primary.stats();
    expect(row!.protocolErrors).toBeGreaterThanOrEqual(1);
    const lines = text().split('\n').filter((line) => line.includes('socket or server handle'));
    // Told at once, then added up: not one line per handle.
    expect(lines.length).toBeGreaterThanOrEqual(1);
    expect(lines.length).toBeLessThan(5);
    expect(lines[0]).toContain(`Worker ${worker!.id} (pid ${worker!.pid}) sent a socket or server handle`);
  });
});

/** A worker of workers/slow-http.ts holding `count` requests open, with no heartbeat answered yet. */
async function openRequestsBeforeAnyHeartbeat(count: number) {
  const { logger, text } = capturedLogger();
  const port = await freePort();
  // No heartbeat within the test: what the primary knows is what the worker says as it exits.
  const primary = testPrimary({ env: { PORT: String(port) }, logger, heartbeat: { intervalMs: 600_000, timeoutMs: 1_200_000 } }, 'workers/slow-http.ts');
  const [worker] = await primary.start();
  const arrived = record(primary, 'workerMessage');
  const requests = Array.from({ length: count }, () => get(port, '/?ms=600000'));
  await until(() => arrived.events.length === count, 20_000, 'the requests in flight');
  arrived.stop();
  expect(primary.stats()[0]!.openRequests).toBeUndefined();
  return { primary, worker: worker!, port, requests, text };
}

describe('requests cut by a worker that dies before any heartbeat', () => {
  it('[H116] an uncaught throw: workerCrash says the requests open as it died (lostRequests), not 0', async () => {
    const { primary, worker, port, requests, text } = await openRequestsBeforeAnyHeartbeat(3);
    const crash = onceEvent<WorkerCrashEvent>(primary, 'workerCrash', 20_000);
    const throwing = get(port, '/?throw=1');
    const event = await crash;
    // The 3 held, and the throwing one.
    expect(event.lostRequests).toBe(4);
    expect(event.error?.message).toBe('thrown while serving');
    for (const outcome of await Promise.all([...requests, throwing])) expect(outcome).toBe('ECONNRESET');
    await until(() => text().includes(`worker ${worker.id} crashed`), 20_000, 'the crash line');
    expect(text()).toContain('4 requests cut off (open as it exited');
  });

  it('[H116] process.exit(1) while serving: lostRequests counts the requests open at the exit', async () => {
    const { primary, port, requests } = await openRequestsBeforeAnyHeartbeat(3);
    const crash = onceEvent<WorkerCrashEvent>(primary, 'workerCrash', 20_000);
    const exiting = get(port, '/?exit=1');
    const event = await crash;
    expect(event.code).toBe(1);
    expect(event.lostRequests).toBe(4);
    for (const outcome of await Promise.all([...requests, exiting])) expect(outcome).toBe('ECONNRESET');
  });

  it('[H116] process.exit(0) while serving, outside a stop: a workerRequestsCut and its line, with the count at the exit', async () => {
    const { primary, worker, port, requests, text } = await openRequestsBeforeAnyHeartbeat(2);
    const cut = onceEvent<{ worker: WorkerHandle; openRequests: number; reason: string }>(primary, 'workerRequestsCut', 20_000);
    const exiting = get(port, '/?exit=0');
    const event = await cut;
    // Before: nothing, as no heartbeat had counted them.
    expect(event).toMatchObject({ worker, reason: 'unexpected-exit', openRequests: 3 });
    for (const outcome of await Promise.all([...requests, exiting])) expect(outcome).toBe('ECONNRESET');
    expect(text()).toContain(`WARN worker ${worker.id} exited with code 0 on its own with 3 requests open: they were cut off`);
  });
});

/** A worker of slow-http.ts with `env` and `count` requests in flight, heartbeat left at a minute. */
async function workerServing(env: Record<string, string>, count: number) {
  const { logger, text } = capturedLogger();
  const port = await freePort();
  const primary = testPrimary({ env: { PORT: String(port), ...env }, logger, heartbeat: { intervalMs: 60_000, timeoutMs: 120_000 } }, 'workers/slow-http.ts');
  const [worker] = await primary.start();
  const arrived = record(primary, 'workerMessage');
  const requests = Array.from({ length: count }, () => get(port, '/?ms=600000'));
  await until(() => arrived.events.length === count, 20_000, 'the requests in flight');
  arrived.stop();
  return { primary, worker: worker!, requests, text };
}

describe('forged stop notices', () => {
  it('[H117] a forged $stopped with 2 requests open, then process.reallyExit(0): failed, both counted as cut, not graceful', async () => {
    const { primary, worker, requests, text } = await workerServing({ FORGE_ON_SHUTDOWN: 'stopped' }, 2);
    const report = await primary.shutdown({ timeoutMs: 20_000 });
    // Before: graceful, requestsCut 0, while both clients were reset.
    expect(report).toEqual({ graceful: [], failed: [worker], killed: [], requestsCut: 2 });
    expect(await Promise.all(requests)).toEqual(['ECONNRESET', 'ECONNRESET']);
    expect(text()).toContain(`Worker ${worker.id} (pid ${worker.pid}) sent "$stopped" at a time its state rules out`);
  });

  it('[H117] a forged $requestsCut of 2^53 - 1, three times, with 2 requests open: the report counts the 2 it reported open, one warning', async () => {
    const { primary, worker, requests, text } = await workerServing({ FORGE_ON_SHUTDOWN: 'cut-huge' }, 2);
    const cuts = record<{ openRequests: number }>(primary, 'workerRequestsCut');
    const report = await primary.shutdown({ timeoutMs: 3_000 });
    // Before: 9007199254740991 requests cut off.
    expect(report.requestsCut).toBe(2);
    expect(report.graceful).toEqual([]);
    expect(cuts.events.map((event) => event.openRequests)).toEqual([2]);
    cuts.stop();
    expect(await Promise.all(requests)).toEqual(['ECONNRESET', 'ECONNRESET']);
    expect(text()).toContain(`Worker ${worker.id} (pid ${worker.pid}) sent "$requestsCut" with a figure beyond what the primary knows of it`);
  });
});

describe('repeated notices', () => {
  it('[H118][H219] 500 $destroyFailed from a stopping worker that then exits 0: no workerDestroyTimeout (its exit belies them), all counted in a bounded warning', async () => {
    const { primary, worker, text } = await workerServing({ FORGE_ON_SHUTDOWN: 'destroy-failed' }, 0);
    const timeouts = record(primary, 'workerDestroyTimeout');
    await primary.shutdown({ timeoutMs: 20_000 });
    // Before: 500 lines, one per notice. H219: the first is a claim its exit with code 0 belies.
    expect(timeouts.events).toHaveLength(0);
    timeouts.stop();
    const lines = text().split('\n').filter((line) => line.includes('$destroyFailed'));
    expect(lines.length).toBeGreaterThanOrEqual(1);
    expect(lines.length).toBeLessThan(3);
    expect(worker.state).toBe('exited');
  });
});

describe('a forged $crash', () => {
  it('[H234] followed by an exit with code 0: dropped as a protocol error, never quoted as what the worker died of', async () => {
    const { logger, text } = capturedLogger();
    const port = await freePort();
    const primary = testPrimary({ env: { PORT: String(port) }, logger }, 'workers/slow-http.ts');
    const [worker] = await primary.start();
    const exits = record(primary, 'workerExit');
    const crashes = record(primary, 'workerCrash');
    void get(port, '/?forgeCrash=1');
    await until(() => exits.events.length === 1, 20_000, 'the worker exited');
    await until(() => text().includes('"$crash"'), 20_000, 'the protocol error');
    exits.stop();
    crashes.stop();
    // Before: "exited with code 0 ... of an uncaught Forged: forged crash", workerCrash.error the forged one.
    expect(text()).not.toContain('Forged');
    for (const event of crashes.events as Array<{ error?: unknown }>) expect(event.error).toBeUndefined();
    expect(text()).toContain(`Worker ${worker!.id} (pid ${worker!.pid}) sent "$crash" at a time its state rules out`);
    await primary.shutdown({ timeoutMs: 20_000 });
  });

  it('[H707] followed by a SIGKILL from outside: dropped as a protocol error, and the kill is what the crash line says', async () => {
    const { logger, text } = capturedLogger();
    const port = await freePort();
    const primary = testPrimary({ env: { PORT: String(port) }, logger }, 'workers/slow-http.ts');
    const [worker] = await primary.start();
    const crashes = record(primary, 'workerCrash');
    void get(port, '/?forgeCrash=kill');
    await until(() => crashes.events.length === 1, 20_000, 'the crash');
    await until(() => text().includes('"$crash"'), 20_000, 'the protocol error');
    crashes.stop();
    // Before (hostile t77): "crashed ... of an uncaught Forged: forged crash", workerCrash.error the
    // forged one, and the SIGKILL (the OOM killer's signal) never said.
    expect(text()).not.toContain('Forged');
    expect((crashes.events[0] as { error?: unknown; signal: unknown }).error).toBeUndefined();
    expect((crashes.events[0] as { signal: unknown }).signal).toBe('SIGKILL');
    expect(text()).toContain('killed by SIGKILL from outside clusterkit');
    expect(text()).toContain(`Worker ${worker!.id} (pid ${worker!.pid}) sent "$crash" at a time its state rules out`);
    await primary.shutdown({ timeoutMs: 20_000 });
  });
});

describe('a signal clusterkit did not send, during a stop', () => {
  it('[H118][H147] a worker that SIGKILLs itself in its shutdown listener with 3 requests open: a workerRequestsCut (signal) and lines that name the likely sources', async () => {
    const { primary, worker, requests, text } = await workerServing({ DIE_ON_SHUTDOWN: 'SIGKILL' }, 3);
    const cut = onceEvent<{ worker: WorkerHandle; openRequests: number; reason: string; signal?: string }>(primary, 'workerRequestsCut', 20_000);
    const report = await primary.shutdown({ timeoutMs: 20_000 });
    expect(report).toEqual({ graceful: [], failed: [worker], killed: [], requestsCut: 3 });
    // Before: no event, and the exit line said it was killed "from outside clusterkit".
    await expect(cut).resolves.toMatchObject({ worker, openRequests: 3, reason: 'signal', signal: 'SIGKILL' });
    expect(await Promise.all(requests)).toEqual(['ECONNRESET', 'ECONNRESET', 'ECONNRESET']);
    expect(text()).toContain(`WARN worker ${worker.id} was ended by SIGKILL during its stop with 3 requests open: they were cut off`);
    expect(text()).toContain(`WARN worker ${worker.id} was ended by SIGKILL during its stop, before it finished stopping; the primary did not send it; likely sources: clusterkit's orphan watchdog in the worker`);
    expect(text()).not.toContain('from outside clusterkit');
    // [H147] Before: "clusterkit did not send it", though the worker's orphan watchdog, clusterkit's, may have.
    expect(text()).not.toContain('clusterkit did not send it');
    expect(text()).toContain('code in the worker killing itself (as in a shutdown listener), kill -9, or the OOM killer');
  });
});

describe('open-request counts no worker can hold', () => {
  it('[H122] a forged $drain of 2^53 - 1, then a $requestsCut of 2^53 - 1, with 2 requests open: the report counts the 2, the $drain is named', async () => {
    const { primary, worker, requests, text } = await workerServing({ FORGE_ON_SHUTDOWN: 'drain-huge' }, 2);
    const report = await primary.shutdown({ timeoutMs: 3_000 });
    // Before: 9007199254740991 requests cut off (the $drain raised what it "reported open").
    expect(report.requestsCut).toBe(2);
    expect(await Promise.all(requests)).toEqual(['ECONNRESET', 'ECONNRESET']);
    expect(text()).toContain(`Worker ${worker.id} (pid ${worker.pid}) sent "$drain" with a figure beyond what the primary knows of it`);
    expect(text()).not.toContain('9007199254740991');
  });

  it('[H122] a forged $exiting of 2^53 - 1 while running, then process.exit(1): lostRequests counts the requests open at the exit, the forged one is the one said dropped', async () => {
    const { primary, worker, port, requests, text } = await openRequestsBeforeAnyHeartbeat(2);
    const crash = onceEvent<WorkerCrashEvent>(primary, 'workerCrash', 20_000);
    const forging = get(port, `/?forgeExiting=${Number.MAX_SAFE_INTEGER}`);
    const event = await crash;
    // Before: 9007199254740991, and the warning said the real $exiting was dropped.
    expect(event.lostRequests).toBe(3);
    for (const outcome of await Promise.all([...requests, forging])) expect(outcome).toBe('ECONNRESET');
    await until(() => text().includes('"$exiting" with a figure beyond'), 20_000, 'the warning');
    expect(text()).toContain(`Worker ${worker.id} (pid ${worker.pid}) sent "$exiting" with a figure beyond what the primary knows of it`);
    expect(text()).not.toContain('"$exiting" at a time its state rules out');
  });

  it('[H122] a forged $exiting of 500 while running, then process.exit(1): the real count at the exit wins', async () => {
    const { primary, port, requests, text } = await openRequestsBeforeAnyHeartbeat(2);
    const crash = onceEvent<WorkerCrashEvent>(primary, 'workerCrash', 20_000);
    const forging = get(port, '/?forgeExiting=500');
    const event = await crash;
    // Before: 500, the first $exiting of its life; the real one was dropped.
    expect(event.lostRequests).toBe(3);
    for (const outcome of await Promise.all([...requests, forging])) expect(outcome).toBe('ECONNRESET');
    expect(text()).not.toContain('"$exiting" at a time its state rules out');
  });
});

describe('open-request counts told as requests begin', () => {
  it('[H122] a forged $openRequests of 2^53 - 1, then a SIGKILL from outside: lostRequests stays what the worker could have open, the forged one is named', async () => {
    const { primary, worker, port, requests, text } = await openRequestsBeforeAnyHeartbeat(2);
    const crash = onceEvent<WorkerCrashEvent>(primary, 'workerCrash', 20_000);
    const forging = get(port, `/?forgeOpen=${Number.MAX_SAFE_INTEGER}&ms=600000`);
    await until(() => text().includes('"$openRequests" with a figure beyond'), 20_000, 'the warning');
    process.kill(worker.pid!, 'SIGKILL');
    const event = await crash;
    // Before the bound: 9007199254740991 lost. Now at most the 3 the worker had open.
    expect(event.lostRequests).toBeLessThanOrEqual(3);
    for (const outcome of await Promise.all([...requests, forging])) expect(outcome).toBe('ECONNRESET');
    expect(text()).toContain(`Worker ${worker.id} (pid ${worker.pid}) sent "$openRequests" with a figure beyond what the primary knows of it`);
    expect(text()).not.toContain('9007199254740991');
  });
});

describe('heartbeat figures no process can have', () => {
  /** A worker whose every heartbeat answer is forged as FORGE_PING says, once it was answered and counted. */
  async function forgedHeartbeat(how: string) {
    const { logger, text } = capturedLogger();
    const primary = testPrimary({ env: { PORT: String(await freePort()), FORGE_PING: how }, logger, heartbeat: { intervalMs: 100, timeoutMs: 20_000 } }, 'workers/slow-http.ts');
    const [worker] = await primary.start();
    await until(() => text().includes('"$ping" with a figure beyond'), 20_000, 'a forged answer');
    return { primary, worker: worker!, text };
  }

  it('[H122] 8 PB of RSS and a heap using more than it holds: the figures stay at the last possible reading (its ready notice\'s), the answer is named', async () => {
    const { primary, worker, text } = await forgedHeartbeat('memory');
    const [row] = primary.stats();
    // Before: 9007199254740991 bytes in status, /metrics and the dashboard. Now the reading its
    // ready notice gave (or none), never the forged one.
    expect(row!.rssBytes ?? 0).toBeLessThan(totalmem());
    expect(row!.heapUsedBytes ?? 0).toBeLessThanOrEqual(row!.heapTotalBytes ?? 0);
    expect(row!.heapTotalBytes ?? 0).toBeLessThan(totalmem());
    expect(row!.protocolErrors).toBeGreaterThanOrEqual(1);
    expect(text()).toContain(`Worker ${worker.id} (pid ${worker.pid}) sent "$ping" with a figure beyond`);
  });

  it('[H122][H390] 1e9 % CPU, a 1e15 ms loop delay and 2^53 - 1 open requests: those stay unknown, the possible memory figures are kept', async () => {
    const { primary } = await forgedHeartbeat('figures');
    // Taken once the primary read the worker's RSS itself (H382): a file read after the answer.
    await until(() => primary.stats()[0]!.heapUsedBytes === 1_000_000, 20_000, 'the answer taken');
    const [row] = primary.stats();
    expect(row).toMatchObject({ heapUsedBytes: 1_000_000, heapTotalBytes: 2_000_000 });
    // The RSS is the primary's own reading where it can measure (Linux, H382), not the forged 50 MB.
    if (process.platform === 'linux') expect(row!.rssBytes).not.toBe(50_000_000);
    else expect(row!.rssBytes).toBe(50_000_000);
    // Before: 1000000000 %, 1e15 ms and 9007199254740991 requests. The CPU is the primary's own
    // reading where it reads it (Linux, H390), the worker's answer never; none elsewhere.
    if (process.platform === 'linux') expect(row!.cpuPercent ?? 0).toBeLessThan(1_000);
    else expect(row!.cpuPercent).toBeUndefined();
    expect(row!.eventLoopDelayMs).toBeUndefined();
    expect(row!.eventLoopDelayP99Ms).toBeUndefined();
    expect(row!.openRequests).toBeUndefined();
  });
});

describe('a forged heartbeat answer read together with the genuine one', () => {
  it('[H387] both answers in one read of the channel: the warning told at once names the forged figures (out-of-range), the genuine answer after it is the duplicate-reply', async () => {
    const { logger } = capturedLogger();
    const primary = testPrimary({ env: { PORT: String(await freePort()), FORGE_PING: 'figures' }, logger, heartbeat: { intervalMs: 100, timeoutMs: 20_000 } }, 'workers/slow-http.ts');
    await primary.start();
    const errors = record<{ error: { problem: string }; problems: Record<string, number> }>(primary, 'workerProtocolError');
    // The primary (this process) busy 300 ms of every 350: both answers to a ping wait in the pipe and are read at once, as on a loaded machine.
    const busy = setInterval(() => {
      const end = Date.now() + 300;
      while (Date.now() < end) {
        // busy
      }
    }, 50);
    try {
      await until(() => primary.stats()[0]!.protocolErrors >= 4, 20_000, 'both answers to two pings counted');
    } finally {
      clearInterval(busy);
      errors.stop();
    }
    // Before: the genuine answer's duplicate-reply was reported first (at once, as read) and the
    // forged figures only after the promise settled: the warning told at once named the duplicate.
    expect(errors.events[0]!.error.problem).toBe('out-of-range');
  });
});

describe('a worker killed for its channel during its stop', () => {
  it('[H123] a NODE_HANDLE_ACK sent as its stop begins, 1 request open: counted killed, its line gives the channel guard\'s reason, not the timeout', async () => {
    const { primary, worker, requests, text } = await workerServing({ FORGE_ON_SHUTDOWN: 'node-ack' }, 1);
    const report = await primary.shutdown({ timeoutMs: 20_000 });
    // Before: failed=1 killed=0, and "killed ... at the shutdown timeout" long before it.
    expect(report).toEqual({ graceful: [], failed: [], killed: [worker], requestsCut: 1 });
    expect(await Promise.all(requests)).toEqual(['ECONNRESET']);
    expect(text()).toContain(
      `WARN worker ${worker.id} was killed (SIGKILL) by the primary during its stop, before it finished stopping: its IPC channel carried what the primary cannot read (bad-node-message, the error above)`,
    );
    expect(text()).not.toContain('at the shutdown timeout');
  });
});
