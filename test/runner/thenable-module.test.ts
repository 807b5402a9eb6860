/**
 * A worker module whose namespace is a thenable (it exports `then`): the runner imports it
 * without adopting it (hostile t90 #1: the worker served, yet was killed three times as "not
 * ready within 30000 ms", then the service "could not start").
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { get } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { killServices, startService } from './service-process.js';

afterEach(() => killServices());

describe('a worker module that exports then', () => {
  it('[H770] starts, is ready, and its callbacks get its namespace, then() never called', async () => {
    const port = await freePort();
    const service = startService({ RUNNER_MODULE: './runner-then-module.ts', RUNNER_OPTIONS: JSON.stringify({ workers: 1 }), PORT: String(port) });
    const [started] = await service.waitForLines('started');
    const [startup] = await service.waitForLines('onWorkerStartup');
    expect(startup!.exports).toEqual(['flush', 'server', 'state', 'then']);
    expect(JSON.parse((await get(`http://127.0.0.1:${port}/`)).body)).toEqual({ pid: (started!.pids as number[])[0] });
    process.kill(started!.pid as number, 'SIGTERM');
    await expect(service.exited()).resolves.toBe(0);
    expect(service.output()).not.toContain('then() of the module was called');
  });
});
