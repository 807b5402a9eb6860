/**
 * `clusterkit run` collects the app's own prom-client (H533, hostile retest t55): a clusterkit
 * installed globally found no prom-client beside it, or a second copy whose default registry was
 * empty, while the app counted into its own; its series never reached `/metrics`, and nothing
 * said so. Here clusterkit's own `import('prom-client')` fails in every process (a resolution
 * hook, as for a package not installed beside it), and the app has prom-client in its project.
 */
import { symlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { freePort } from '../helpers/ports.js';
import { until } from '../helpers/wait.js';
import { cleanUpCli, cli, readyPids, runtimeDir, startCli, tempProject } from './cli-process.js';

afterEach(() => cleanUpCli());

const kRegister = resolve('test/fixtures/hide-package/register.mjs');

describe('clusterkit run and the app own prom-client [H533]', () => {
  it("[H533] the app's counters reach /metrics when clusterkit itself cannot load prom-client", async () => {
    const [port, healthPort] = [await freePort(), await freePort()];
    const runtime = runtimeDir();
    const project = tempProject({
      'app.cjs':
        "const client = require('prom-client');\n" +
        "new client.Counter({ name: 'app_hits_total', help: 'hits' }).inc(3);\n" +
        "require('node:http').createServer((q, s) => s.end('ok')).listen(Number(process.env.PORT));\n",
    });
    // The app's project has prom-client (the repository's, linked): its own require finds it.
    symlinkSync(resolve('node_modules/prom-client'), join(project, 'node_modules/prom-client'), 'dir');
    const run = startCli(['run', 'app.cjs', '-w', '1', '--name', 'h533', '--health-port', String(healthPort)], {
      runtime,
      cwd: project,
      env: { PORT: String(port), NODE_OPTIONS: `--import ${kRegister}`, HIDE_PACKAGES: 'prom-client' },
    });
    await until(() => readyPids(run).length === 1, 30_000, 'a worker ready');
    const metrics = await (await fetch(`http://127.0.0.1:${healthPort}/metrics`)).text();
    expect(metrics).toMatch(/^app_hits_total 3$/m);
    expect(metrics).toMatch(/^clusterkit_worker_series_dropped_total\{reason="no-prom-client"\} 0$/m);
    expect(run.output()).not.toContain('prom-client is not installed');
    expect((await cli(['stop', 'h533'], { runtime })).code).toBe(0);
  }, 60_000);
});
