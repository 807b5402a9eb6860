/**
 * A message within `maxMessageBytes` can still keep the primary busy for seconds: Node parses it
 * in one go inside the channel's read callback, and many small values parse slowly. The channel
 * guard times each read and reports the slow ones (`workerSlowMessage`): before, the sender was
 * neither named nor logged. A real child process and a real IPC channel; the threshold is lowered
 * so that the test does not depend on how fast this machine parses.
 */
import { fork } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from '@jest/globals';
import { recordClusterEvents } from '../../src/control/record-events.js';
import { guardChannel, kBusyReadMs, kSlowReadMs } from '../../src/primary/pool/channel-guard.js';
import { SlowReadTally, type SlowReads } from '../../src/primary/pool/slow-reads.js';
import { capturedLogger } from '../helpers/captured-logger.js';
import { onCleanup } from '../helpers/cleanup.js';
import { testOptions, testPrimary, track } from '../helpers/primary.js';
import { ClusterPrimary } from '../../src/index.js';
import { onceEvent, until } from '../helpers/wait.js';

const kChild = fileURLToPath(new URL('../fixtures/slow-message-child.mjs', import.meta.url));

describe('a message slow to parse', () => {
  it('[H61] is timed by the channel guard: the read that parsed it is reported, with its time and about its size', async () => {
    expect(kSlowReadMs).toBe(1_000);
    expect(kBusyReadMs).toBe(10);
    const child = fork(kChild, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    onCleanup(() => child.kill('SIGKILL'));
    const slow: Array<{ readMs: number; bytes: number }> = [];
    const corrupt: unknown[] = [];
    expect(guardChannel(child, 64 * 1024 * 1024, (fault) => corrupt.push(fault), (readMs, bytes) => slow.push({ readMs, bytes }), 0)).toBe(true);
    await once(child, 'message');
    const count = 200_000; // `{},` each: about 600 KB, many reads
    const received = once(child, 'message');
    child.send({ count });
    const [message] = (await received) as [unknown[]];
    expect(message).toHaveLength(count);
    expect(corrupt).toEqual([]);
    // Every read was at or over the threshold of 0: the last one held about the whole message.
    const largest = Math.max(...slow.map((read) => read.bytes));
    expect(largest).toBeGreaterThan(count * 3 * 0.9);
    expect(slow.every((read) => read.readMs >= 0)).toBe(true);
    child.send('exit');
    await until(() => child.exitCode !== null || child.signalCode !== null, 10_000, 'the child exited');
  });

  it('[H61] names the worker in a warning line and in the event log, rate-limited per worker', async () => {
    const { logger, text } = capturedLogger();
    const primary = testPrimary({ logger });
    const [worker] = await primary.start();
    const { log, stop } = recordClusterEvents(primary);
    onCleanup(stop);
    primary.emit('workerSlowMessage', { worker: worker!, readMs: 2_345, reads: 1, bytes: 15 * 1024 * 1024, count: 3, maxMessageBytes: 16 * 1024 * 1024, types: ['report'] });
    expect(text()).toContain(
      `[t] WARN worker ${worker!.id} sent a message that took the primary 2.3 s to read (about 15.0 MiB): nothing else ran in the primary meanwhile (3 times since the last such line). ` +
        'Messages of many small values parse slowly; send a file path or a store key instead, or lower maxMessageBytes (16.0 MiB) if workers are not trusted ',
    );
    expect(log.read().events).toContainEqual(expect.objectContaining({ type: 'workerSlowMessage', workerId: worker!.id, readMs: 2_345, reads: 1, bytes: 15 * 1024 * 1024, count: 3 }));
  });

  it('[H618] tells a worker\'s answers to metrics scrapes as such: not as messages its script sent', async () => {
    // Hostile tester t61b: 30 scrapes of a 6.6 MB registry were told as messages "from
    // process.send() in the script", to be removed: the script had no such call.
    const { logger, text } = capturedLogger();
    const primary = track(new ClusterPrimary(testOptions('big-metrics-worker.ts', { workerCount: 1, logger })));
    const [worker] = await primary.start();
    // A notification: a reply to it, read in the primary as costly as any read on a loaded
    // machine (10 ms), would be among the reads added up with the scrapes' (under load, the suite).
    primary.notify(worker!, 'series', { count: 30_000, labelBytes: 250 }); // about 8.5 MB a page
    const slow: Array<{ types: readonly string[] }> = [];
    primary.on('workerSlowMessage', (event) => slow.push(event));
    // Until its reads add up to a second (each answer takes this machine 100 ms or more to read).
    for (let scrape = 0; scrape < 100 && slow.length === 0; scrape++) await primary.metrics({ timeoutMs: 60_000 });
    expect(slow.length).toBeGreaterThan(0);
    // Its answers, and perhaps clusterkit's own notices read with them (a pong, its ready notice
    // on a loaded machine): nothing of the script's.
    expect(slow[0]!.types).toContain('$metrics');
    expect(slow[0]!.types.filter((type) => !type.startsWith('$'))).toEqual([]);
    expect(text()).toMatch(new RegExp(`WARN worker ${worker!.id}'s answers to metrics scrapes \\(primary\\.metrics\\(\\), /metrics\\) took the primary [\\d.]+ m?s to read`));
    expect(text()).toContain('Its metrics registry is large: register fewer series (labels with many values), or scrape less often');
    expect(text()).not.toContain('Messages of many small values');
  });

  it('[H61] adds up messages that each take less than a second: a worker keeping the primary busy with many is reported too', async () => {
    const primary = testPrimary();
    const [worker] = await primary.start();
    // The report that added reads up: on a machine loaded enough that one message takes a second
    // to parse, the first report is that one read alone (and the ones added up come in the
    // trailing report). Without the adding up, no report comes at all on a machine that is not.
    const slow = onceEvent<{ worker: { id: number }; readMs: number; reads: number; bytes: number }>(primary, 'workerSlowMessage', 120_000, (event) => event.reads > 1);
    // 60 messages of 300 000 empty objects (about 900 KB each): tens of ms each to parse, and
    // seconds on a loaded machine. The worker answers first and sends them one at a time.
    await expect(primary.send(worker!, 'sendCostly', { count: 60, objects: 300_000 })).resolves.toBe('sending');
    const event = await slow;
    expect(event.worker.id).toBe(worker!.id);
    expect(event.readMs).toBeGreaterThanOrEqual(1_000);
    expect(event.reads).toBeGreaterThan(1);
    expect(event.bytes).toBeGreaterThan(800_000);
    await expect(primary.send(worker!, 'stopCostly', undefined)).resolves.toBe('stopped');
  });

  it('[H61] [H85] counts the messages a worker\'s bulk pipe releases too: their decoding is timed as a read, with their size', async () => {
    const primary = testPrimary();
    const [worker] = await primary.start();
    const slow = onceEvent<{ worker: { id: number }; readMs: number; reads: number; bytes: number }>(primary, 'workerSlowMessage', 120_000);
    // 60 records of 300 000 empty objects, 6 at a time held until their bytes come: decoded in the
    // pipe's reads. The worker answers first.
    await expect(primary.send(worker!, 'sendCostlyBulk', { count: 60, objects: 300_000 })).resolves.toBe('sending');
    const event = await slow;
    expect(event.worker.id).toBe(worker!.id);
    expect(event.readMs).toBeGreaterThanOrEqual(1_000);
    // [H85] The size told is what was decoded (900 KB of JSON a record), not the chunk of 9-byte
    // frames' bytes that released it (before: about 120 B for a 4 s stall).
    expect(event.bytes).toBeGreaterThan(900_000);
    // The rest, a minute of decoding on a loaded machine, would only delay the echo.
    await expect(primary.send(worker!, 'stopCostly', undefined)).resolves.toBe('stopped');
    await expect(primary.send(worker!, 'echo', 'alive')).resolves.toBe('alive');
  });

  it('[H81] tells the whole time read: the rest of a burst under the threshold comes in the trailing report', async () => {
    const child = fork(kChild, [], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
    onCleanup(() => child.kill('SIGKILL'));
    const read: number[] = [];
    const told: SlowReads[] = [];
    // The pool's tally over a real channel, with every read counted and short limits (20 ms, a
    // 200 ms interval) so that this machine's speed does not matter and the test does not wait 10 s.
    const tally = new SlowReadTally((reads) => told.push({ ...reads }), { slowMs: 20, windowMs: 10_000, intervalMs: 200 });
    const onSlowRead = (readMs: number, bytes: number) => {
      read.push(readMs);
      tally.add(readMs, bytes);
    };
    expect(guardChannel(child, 64 * 1024 * 1024, () => {}, onSlowRead, 0)).toBe(true);
    await once(child, 'message');
    const ask = async (count: number) => {
      const received = once(child, 'message');
      child.send({ count });
      await received;
    };
    // Messages of 100 000 objects until their reads reach 20 ms (the first report, at once)...
    for (let round = 0; round < 100 && told.length === 0; round++) await ask(100_000);
    expect(told.length).toBeGreaterThanOrEqual(1);
    // ...then a small one: the rest, under 20 ms, that was never told.
    await ask(10);
    await until(() => told.reduce((total, reads) => total + reads.reads, 0) === read.length, 30_000, 'every read told');
    expect(told.reduce((total, reads) => total + reads.readMs, 0)).toBeCloseTo(read.reduce((total, readMs) => total + readMs, 0), 6);
    child.send('exit');
    await until(() => child.exitCode !== null || child.signalCode !== null, 10_000, 'the child exited');
  });
});
