import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { get } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { waitUntilGone } from '../helpers/processes.js';
import { killSpawned, spawnScript } from '../helpers/spawn.js';
import { cleanUpCli, cli } from '../cli/cli-process.js';
import { exitedWithOutput } from './service-process.js';

let runtime: string | undefined;
afterEach(() => {
  killSpawned();
  cleanUpCli();
  if (runtime) rmSync(runtime, { recursive: true, force: true });
});

describe('examples/service-runner', () => {
  it('serves from every worker, answers `clusterkit status runner-demo`, and closes each pool on SIGTERM', async () => {
    runtime = mkdtempSync(join(tmpdir(), 'ck-'));
    const port = await freePort();
    const demo = spawnScript('examples/service-runner/main.ts', {
      env: { PORT: String(port), WORKERS: '2', NODE_ENV: 'production', XDG_RUNTIME_DIR: runtime },
      detached: true,
    });
    await demo.waitFor(/runner-demo: 2 workers ready \(primary pid (\d+)\)/);
    const pids = [...demo.output().matchAll(/worker \d+ \(pid (\d+)\) serving on http:\/\/127\.0\.0\.1:(\d+)/g)].map((match) => {
      expect(Number(match[2])).toBe(port);
      return Number(match[1]);
    });
    expect(pids).toHaveLength(2);
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(JSON.parse((await get(`http://127.0.0.1:${port}/`)).body) as { pid: number; answer: string });
    expect(new Set(answers.map((answer) => answer.pid))).toEqual(new Set(pids));
    expect(answers[0]!.answer).toBe('result of select 1');

    const status = JSON.parse((await cli(['status', 'runner-demo', '--json'], { runtime })).stdout) as { pid: number; workers: Array<{ pid: number }> };
    expect(status.pid).toBe(demo.child.pid);
    expect(status.workers.map((worker) => worker.pid).sort()).toEqual([...pids].sort());

    demo.child.kill('SIGTERM');
    await expect(exitedWithOutput(demo)).resolves.toBe(0);
    for (const pid of pids) expect(demo.output()).toContain(`worker pid ${pid} closed its pool`);
    await waitUntilGone(pids);
  });
});
