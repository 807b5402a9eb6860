import { afterEach, describe, expect, it } from '@jest/globals';
import { freePort } from '../helpers/ports.js';
import { killServices, startService } from './service-process.js';

afterEach(() => killServices());

async function get(port: number, path: string): Promise<{ status: number; body: Record<string, unknown> | string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  const text = await response.text();
  return { status: response.status, body: path === '/readyz' ? (JSON.parse(text) as Record<string, unknown>) : text };
}

describe('startClusteredService({ health })', () => {
  it('[H455] serves /healthz and /readyz from the primary as it starts, with minReady, and closes the endpoint at stop()', async () => {
    const healthPort = await freePort();
    const health = { port: healthPort, host: '127.0.0.1', minReady: 2 };
    const service = startService({
      RUNNER_OPTIONS: JSON.stringify({ workers: 2, handleSignals: false, health }),
      RUNNER_STOP_ON_SIGUSR2: '1',
    });
    await service.waitForLines('stopOnSigusr2');
    // Logged as `clusterkit run --health-port` logs it: the same code opened it.
    expect(service.output()).toContain(`health endpoint on http://127.0.0.1:${healthPort}: /healthz, /readyz, /metrics`);
    expect(await get(healthPort, '/healthz')).toMatchObject({ status: 200 });
    expect(await get(healthPort, '/readyz')).toMatchObject({ status: 200, body: { readyWorkers: 2, minReady: 2 } });
    const metrics = await get(healthPort, '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/^clusterkit_/m);
    process.kill(service.child.pid!, 'SIGUSR2');
    const [after] = await service.waitForLines('healthAfterStop');
    // Closed by the shutdown itself, while the process still runs.
    expect(after).toEqual({ event: 'healthAfterStop', accepted: false });
    await expect(service.exited()).resolves.toBe(0);
  });

  it('[H455] /readyz answers 503 while fewer than minReady workers are ready', async () => {
    const healthPort = await freePort();
    const service = startService({ RUNNER_OPTIONS: JSON.stringify({ workers: 1, health: { port: healthPort, host: '127.0.0.1', minReady: 2 } }) });
    await service.waitForLines('started');
    const ready = await get(healthPort, '/readyz');
    expect(ready).toMatchObject({ status: 503, body: { readyWorkers: 1, minReady: 2 } });
    expect((ready.body as { reason: string }).reason).toMatch(/^1 of 2 required workers ready/);
    process.kill(service.child.pid!, 'SIGTERM');
    await expect(service.exited()).resolves.toBe(0);
  });

  it.each([
    [{ host: '127.0.0.1' }, 'The "health.port" option must be a port number from 0 to 65535 (0: any free port). It is missing (undefined): pass it'],
    [{ port: 70_000 }, 'The "health.port" option must be a port number from 0 to 65535 (0: any free port). Received 70000'],
    [{ port: 0, minReady: -1 }, 'The "health.minReady" option must be a non-negative integer'],
    [{ port: 0, minRedy: 2 }, 'The "health.minRedy" option must be one of the known options, probably "health.minReady" (port, host, minReady)'],
    [9090, 'The "health" option must be an object. Received 9090'],
  ])('[H455] rejects a bad health option %j at the call, before any fork', async (health, message) => {
    const service = startService({ RUNNER_OPTIONS: JSON.stringify({ workers: 1, health }), RUNNER_CATCH: '1' });
    await expect(service.exited()).resolves.toBe(3);
    const [rejected] = service.lines('rejected');
    expect(rejected).toMatchObject({ name: 'InvalidOptionError', code: 'ERR_INVALID_OPTION' });
    expect(rejected!.message).toContain(message);
    expect(service.lines('onWorkerSpawned')).toEqual([]);
  });
});
