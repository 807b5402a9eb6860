import { describe, expect, it } from '@jest/globals';
import { HealthProbe } from '../../src/worker/health-probe.js';
import { until } from '../helpers/wait.js';

describe('the heartbeat report', () => {
  it('has no event-loop delay in its first answer (nothing measured yet: `-` in status), then mean and p99', async () => {
    const probe = new HealthProbe();
    try {
      const first = probe.report();
      expect(first).toEqual({ rss: expect.any(Number), heapUsed: expect.any(Number), heapTotal: expect.any(Number), heapLimit: expect.any(Number), cpuPercent: expect.any(Number), cpuSeconds: expect.any(Number) });
      let later = probe.report();
      await until(() => (later = probe.report()).loopDelayMean !== undefined, 30_000, 'a measured window');
      expect(later).toMatchObject({ loopDelayMean: expect.any(Number), loopDelayP99: expect.any(Number) });
    } finally {
      probe.stop();
    }
  });
});
