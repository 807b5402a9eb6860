/**
 * A stopping worker's `$sync` (a round trip behind its servers' close: no connection is handed to
 * it after it exits) must not share the bound of its `sendTo()` requests. When its relays filled
 * the primary's `maxPendingPerWorker`, its one `$sync` was refused, the stop went on without it,
 * and the log blamed the worker for "more $sync requests than the primary holds" (hostile t29,
 * F2); in the worker, a full `maxPending` held it back the same way.
 */
import { describe, expect, it } from '@jest/globals';
import { BackpressureError, ProtocolError } from '../../src/errors.js';
import { kRelayRequest, kSyncRequest } from '../../src/messaging/system-types.js';
import { HeldRequests, kMaxHeldSyncs } from '../../src/primary/pool/held-requests.js';
import type { WorkerRecord } from '../../src/primary/pool/worker-record.js';
import { endpointPair } from '../helpers/endpoint-pair.js';

const worker = { describe: () => 'worker 7 (pid 4242)' } as unknown as WorkerRecord;

/** A route whose answers never come: every request it takes stays held. */
const holding = () => new Promise<never>(() => {});

describe('a stopping worker\'s $sync', () => {
  it('[H265] is held by the primary however many relays of the worker it holds, within a bound of its own', () => {
    const reports: Array<{ problem: string; type: string }> = [];
    const held = new HeldRequests(3, (_record, problem, type) => reports.push({ problem, type }));
    let id = 1;
    for (let i = 0; i < 3; i++) expect(held.route(holding, worker, kRelayRequest, {}, true, id++)).toBeInstanceOf(Promise);
    expect(() => held.route(holding, worker, kRelayRequest, {}, true, id++)).toThrow(BackpressureError);
    // Before: refused with BackpressureError, reported as a `too-many-requests` "$sync".
    for (let i = 0; i < kMaxHeldSyncs; i++) expect(held.route(holding, worker, kSyncRequest, undefined, true, id++)).toBeInstanceOf(Promise);
    expect(reports).toEqual([{ problem: 'too-many-requests', type: kRelayRequest }]);
    // Past its own bound, a forged flood: refused, and the words say what clusterkit sends.
    let refusal: unknown;
    try {
      held.route(holding, worker, kSyncRequest, undefined, true, id++);
    } catch (error) {
      refusal = error;
    }
    expect(refusal).toBeInstanceOf(BackpressureError);
    expect((refusal as Error).message).toBe(
      `Worker 7 (pid 4242) already has ${kMaxHeldSyncs} "$sync" requests held by the primary on its behalf, more than a stop sends (one at a time), so this one was refused. clusterkit sends no more: code in the worker writes to its IPC channel directly (process.send).`,
    );
    expect(reports[1]).toEqual({ problem: 'too-many-requests', type: kSyncRequest });
    expect(new ProtocolError('worker 7 (pid 4242)', 'too-many-requests', kSyncRequest).message).toBe(
      'Worker 7 (pid 4242) sent more "$sync" requests than the primary holds for one worker at once (a stop sends one at a time); they were refused with BackpressureError. clusterkit sends no more than that: code in the worker writes to its IPC channel directly (process.send).',
    );
  });

  it('[H265] is sent by the worker when its own maxPending is full of requests', async () => {
    const { client } = endpointPair((type) => (type === kSyncRequest ? 'synced' : new Promise(() => {})), { maxPending: 2, backpressure: 'reject', defaultTimeoutMs: 120_000 });
    const hanging = [client.request('slow', 1), client.request('slow', 2)];
    for (const request of hanging) request.catch(() => {});
    await expect(client.request('slow', 3)).rejects.toBeInstanceOf(BackpressureError);
    // Before: refused with BackpressureError here (with backpressure 'wait', queued until a slot freed).
    await expect(client.request(kSyncRequest, undefined, 30_000)).resolves.toBe('synced');
  });
});
