import { describe, expect, it } from '@jest/globals';
import type { ClusterStatus } from '../../src/control/control-protocol.js';
import { Sampler, slotWorkers } from '../../src/cli/dashboard/samples.js';
import { hostnameOf, RequestGuard } from '../../src/cli/dashboard/request-guard.js';
import type { WorkerStats } from '../../src/primary/features/worker-stats.js';

function stats(id: number, slot: number, state: WorkerStats['state'], messages = 0, health = true, silentMs = 100): WorkerStats {
  return {
    id, pid: 100 + id, slot, name: undefined, roles: [], state, uptimeMs: 1_000, restarts: 0, crashes: 0,
    rssBytes: health ? 64 * 1024 * 1024 : undefined, heapUsedBytes: health ? 8 * 1024 * 1024 : undefined, heapTotalBytes: undefined,
    eventLoopDelayMs: health ? 0.123 : undefined, eventLoopDelayP99Ms: health ? 4.567 : undefined, cpuPercent: health ? 12.34 : undefined,
    healthAgeMs: health ? silentMs : undefined, silentMs, isSilent: silentMs > 2_000, isPaused: false, isClosed: false,
    messagesIn: messages, messagesOut: messages, pending: 0, protocolErrors: 0,
  };
}

const status = (workers: WorkerStats[]) => ({ workers }) as ClusterStatus;

describe('dashboard samples', () => {
  it('gives each slot its figures in chart units, and messages per second from the previous sample', () => {
    const sampler = new Sampler();
    expect(sampler.take(status([stats(1, 0, 'ready', 10), stats(2, 1, 'starting', 0, false)]), 1_000)).toEqual({
      t: 1_000,
      slots: [
        [0, 1, 64, 8, 0.12, 4.57, 12.3, null],
        [1, 2, null, null, null, null, null, null],
      ],
    });
    const next = sampler.take(status([stats(1, 0, 'ready', 60), stats(3, 1, 'ready', 5)]), 3_000);
    // worker 1: 100 more messages in 2 s; worker 3 is new in slot 1: no rate yet.
    expect(next.slots.map((figures) => figures[7])).toEqual([50, null]);
  });

  it('[H66] breaks the loop-delay and CPU lines of a silent worker instead of repeating its last answer', () => {
    const sampler = new Sampler();
    const sample = sampler.take(status([stats(1, 0, 'ready', 10, true, 5_000), stats(2, 1, 'ready', 10, true, 100)]), 1_000);
    expect(sample.slots).toEqual([
      [0, 1, 64, 8, null, null, null, null],
      [1, 2, 64, 8, 0.12, 4.57, 12.3, null],
    ]);
  });

  it('follows the newest ready worker of a slot while a reload replaces it', () => {
    expect(slotWorkers([stats(1, 0, 'ready'), stats(5, 0, 'starting')]).map((worker) => worker.id)).toEqual([1]);
    expect(slotWorkers([stats(1, 0, 'ready'), stats(5, 0, 'ready')]).map((worker) => worker.id)).toEqual([5]);
    expect(slotWorkers([stats(1, 0, 'stopping'), stats(5, 0, 'ready'), stats(2, 1, 'ready')]).map((worker) => worker.id)).toEqual([5, 2]);
  });
});

describe('dashboard request guard', () => {
  const guard = new RequestGuard({ token: 'secret', hostNames: ['Build-Box'] });
  const base = { method: 'GET', host: '127.0.0.1:9716', origin: undefined, authorization: undefined };

  it('accepts only Host names of this machine: localhost, loopback addresses and the names given (any address only when told)', () => {
    expect(['127.0.0.1:9716', 'localhost:1', '[::1]:9716', '127.0.0.2', 'build-box:9716'].map((host) => guard.checkRequest({ ...base, host }).ok)).toEqual([true, true, true, true, true]);
    expect(['evil.example:9716', 'localhost.evil.example', '', '127.0.0.1:9716@evil', undefined, '10.0.0.5'].map((host) => guard.checkRequest({ ...base, host }).ok)).toEqual([false, false, false, false, false, false]);
    expect(new RequestGuard({ token: undefined, hostNames: [], acceptsAnyAddress: true }).checkRequest({ ...base, host: '10.0.0.5' }).ok).toBe(true);
    expect([hostnameOf('[::1]:80'), hostnameOf('LOCALHOST:80'), hostnameOf('a b')]).toEqual(['::1', 'localhost', undefined]);
  });

  it('accepts an Origin only when it is the page own origin', () => {
    expect(guard.checkRequest({ ...base, origin: 'http://127.0.0.1:9716' }).ok).toBe(true);
    for (const origin of ['http://127.0.0.1:9717', 'https://127.0.0.1:9716', 'null', 'http://evil.example']) expect(guard.checkRequest({ ...base, origin }).ok).toBe(false);
  });

  it('lets a control request through only as a POST with the exact token', () => {
    expect(guard.checkControl({ ...base, method: 'POST', authorization: 'Bearer secret' })).toEqual({ ok: true });
    expect(guard.checkControl({ ...base, method: 'GET', authorization: 'Bearer secret' })).toMatchObject({ ok: false, status: 405 });
    for (const authorization of [undefined, 'Bearer secre', 'Bearer secrets', 'secret', 'Basic secret']) {
      expect(guard.checkControl({ ...base, method: 'POST', authorization })).toMatchObject({ ok: false, status: 403 });
    }
    expect(new RequestGuard({ token: undefined, hostNames: [] }).checkControl({ ...base, method: 'POST', authorization: 'Bearer secret' })).toMatchObject({ ok: false, status: 403 });
  });

  it('[H649] takes the scheme in any case (RFC 9110), and says a wrong token is wrong, not missing', () => {
    // Hostile t64: `bearer <token>` was refused with "needs the token", as if none was sent.
    for (const authorization of ['bearer secret', 'BEARER secret', 'Bearer  secret']) expect(guard.checkControl({ ...base, method: 'POST', authorization })).toEqual({ ok: true });
    expect(guard.checkControl({ ...base, method: 'POST', authorization: 'bearer nope' })).toMatchObject({ ok: false, status: 403, message: expect.stringContaining('is not the one in the dashboard URL') });
    expect(guard.checkControl({ ...base, method: 'POST', authorization: 'Basic secret' })).toMatchObject({ ok: false, status: 403, message: expect.stringContaining('needs the token') });
  });
});
