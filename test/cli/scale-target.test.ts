/**
 * The target `clusterkit status` shows while scales overlap: always the last scale the primary
 * accepted. A real `clusterkit run`: a scale-up under way (its new worker warms up for a
 * minute), then a scale-down that removes that worker and drains one holding a request, so it
 * stays under way after the overtaken scale-up has answered.
 */
import http from 'node:http';
import { afterEach, describe, expect, it } from '@jest/globals';
import { onCleanup } from '../helpers/cleanup.js';
import { freePort } from '../helpers/ports.js';
import { cleanUpCli, cli, runtimeDir, startCli } from './cli-process.js';

afterEach(() => cleanUpCli());

const kScript = 'test/fixtures/cli-hang-and-warm.mjs';

describe('overlapping scales: the target', () => {
  it('[H208] once a scale-down overtook a scale-up, status says the scale-down\'s count, also after the scale-up answered and while the scale-down drains', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const run = startCli(['run', kScript, '-w', '2', '--name', 'tgt', '--shutdown-timeout', '2m'], { runtime, env: { PORT: String(port) } });
    await run.waitFor(/service tgt started: 2 workers/);
    // Requests that never get their answer, until slot 1 (which the scale-down stops) holds one.
    const requests: http.ClientRequest[] = [];
    onCleanup(() => requests.forEach((request) => request.destroy()));
    while (!/hung 1\n/.test(run.output())) {
      if (requests.length >= 20) throw new Error(`no request reached slot 1: ${run.output()}`);
      const request = http.get({ host: '127.0.0.1', port, path: '/hang', agent: false });
      request.on('error', () => {});
      requests.push(request);
      await run.waitFor(new RegExp(`(hung \\d\\n[^]*){${requests.length}}`));
    }
    const up = cli(['scale', 'tgt', '3'], { runtime, ms: 120_000 });
    await run.waitFor(/warming \d+/);
    const down = cli(['scale', 'tgt', '1'], { runtime, ms: 180_000 });
    // The scale-down ended the warming worker: the scale-up answers (overtaken, H201) while the scale-down drains.
    expect(await up).toMatchObject({ code: 0 });
    const status = JSON.parse((await cli(['status', 'tgt', '--json'], { runtime })).stdout) as { targetWorkers: number; workers: Array<{ slot: number; state: string }> };
    expect(status.workers.find((worker) => worker.slot === 1)?.state).toBe('stopping');
    // Before: 3, the overtaken scale-up's count, until the scale-down ended.
    expect(status.targetWorkers).toBe(1);
    expect((await cli(['status', 'tgt'], { runtime })).stdout).toMatch(/ workers 1\/1 ready \([12] stopping\) /);
    // The scale-down ends with the test (the cluster's process group is killed): how long the
    // warming worker takes to go is not what this test is about.
    void down;
  });
});
