/**
 * A worker's `sendTo()` is held to its `maxPending` in the worker; a worker that writes
 * clusterkit's `$relay` records itself (`process.send()`) used to skip that bound, and the
 * primary queued every forged relay at the target: 1 000 000 copies of one record took its heap
 * to 1.5 GB. The primary now holds at most `maxPendingPerWorker` relays of one worker, refuses
 * the excess at once with BackpressureError, drops a duplicate id, and reports both.
 */
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { describe, expect, it } from '@jest/globals';
import { BackpressureError, type ProtocolError, type RemoteError } from '../../src/index.js';
import { testPrimary } from '../helpers/primary.js';
import { record, until } from '../helpers/wait.js';

setFlagsFromString('--expose-gc');
const gc = runInNewContext('gc') as () => void;

async function relayCluster(maxPendingPerWorker: number) {
  const primary = testPrimary({ maxPendingPerWorker });
  await primary.start();
  const [sink] = await primary.fork({ name: 'sink' });
  const [attacker] = await primary.fork({ name: 'attacker' });
  const [carol] = await primary.fork({ name: 'carol' });
  const reports = record<{ error: ProtocolError }>(primary, 'workerProtocolError');
  const row = (id: number) => primary.stats().find((each) => each.id === id)!;
  return { primary, sink: sink!, attacker: attacker!, carol: carol!, reports, row };
}

describe('relays the primary holds for a worker', () => {
  it('[H67] forged relays beyond maxPendingPerWorker are refused at once, reported, and withdrawn when their sender exits', async () => {
    const { primary, sink, attacker, carol, reports, row } = await relayCluster(50);
    const report = await primary.send(attacker, 'forgeRelays', { target: 'sink', type: 'hang', count: 300 }, { timeoutMs: 60_000 });
    // 50 held: 25 (the sender's share, H471) at the target, whose handler never answers, 25
    // waiting for them at the primary; the other 250 refused.
    expect(report).toMatchObject({ refused: 250, others: {} });
    expect(report.message).toMatch(/^Worker \d+ \(pid \d+\) already has 50 requests held by the primary on its behalf \(messages sent with sendTo\(\).*"maxPendingPerWorker"\), so this sendTo\(\) was refused\./);
    // (A heartbeat `$ping` may be pending at the sink beside the relays.)
    expect(row(sink.id).pending).toBeGreaterThanOrEqual(25);
    expect(row(sink.id).pending).toBeLessThanOrEqual(26);
    expect(row(attacker.id).protocolErrors).toBe(250);
    expect(reports.events[0]!.error).toMatchObject({ code: 'ERR_PROTOCOL', problem: 'too-many-requests', messageType: '$relay' });
    expect(reports.events[0]!.error.message).toMatch(/sent more sendTo\(\) requests \("\$relay"\) than the primary holds for one worker at once \("maxPendingPerWorker"\); they were refused with BackpressureError/);
    // The attacker's own sendTo is refused too while its 50 are held; it gets the class back.
    const refused = await primary.send(attacker, 'relay', { target: 'carol', type: 'echo', payload: 1 }).catch((error: RemoteError) => error);
    expect(refused).toMatchObject({ remoteName: BackpressureError.name, remoteCode: 'ERR_BACKPRESSURE' });
    // Another worker's relays still go through.
    await expect(primary.send(carol, 'relay', { target: 'attacker', type: 'echo', payload: { ok: 1 } })).resolves.toEqual({ ok: 1 });
    // The attacker dies: nobody waits for its 50 relays any more, they leave the target.
    process.kill(attacker.pid!, 'SIGKILL');
    await until(() => row(sink.id).pending === 0, 30_000, 'the dead sender\'s relays withdrawn from the target');
    reports.stop();
  });

  it('[H67] 200 000 copies of one forged relay record (the same id): one is held, the duplicates are dropped and counted, the primary\'s heap stays flat', async () => {
    const { primary, sink, attacker, carol, reports, row } = await relayCluster(10_000);
    gc();
    const before = process.memoryUsage().heapUsed;
    const report = await primary.send(attacker, 'forgeRelays', { target: 'sink', type: 'hang', count: 200_000, sameId: true, batch: 1_000 }, { timeoutMs: 120_000 });
    gc();
    const grownMiB = (process.memoryUsage().heapUsed - before) / 1024 / 1024;
    // Queued, they would hold about 300 MB (1.5 KB each, as measured before the bound).
    expect(grownMiB).toBeLessThan(100);
    expect(report).toMatchObject({ refused: 0, others: {} });
    expect(row(sink.id).pending).toBeGreaterThanOrEqual(1);
    expect(row(sink.id).pending).toBeLessThanOrEqual(2); // one relay, perhaps a heartbeat
    expect(row(attacker.id).protocolErrors).toBe(199_999);
    expect(reports.events[0]!.error).toMatchObject({ problem: 'duplicate-id', messageType: '$relay' });
    await expect(primary.send(carol, 'relay', { target: 'attacker', type: 'echo', payload: 2 })).resolves.toBe(2);
    reports.stop();
  });
});
