/**
 * A named worker (`fork({ name })`) is shown by its name where docs/named-workers.md says it
 * is (H351): `clusterkit status` and `show` (a name column), `status --json`, the primary's log
 * lines about it (`workerName=`, and its roles), and every per-slot series of `/metrics`; its
 * roles (`fork({ roles })`) in a roles column of `status` and `show` too (H362). A real
 * primary with a control socket in this process, the built CLI as a separate process.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { ClusterPrimary, createJsonLogger, createLineLogger, type Logger } from '../../src/index.js';
import type { ClusterStatus } from '../../src/control/control-protocol.js';
import { testOptions, track } from '../helpers/primary.js';
import { cleanUpCli, cli, runtimeDir } from './cli-process.js';

const kSavedRuntime = process.env.XDG_RUNTIME_DIR;
afterEach(() => {
  if (kSavedRuntime === undefined) delete process.env.XDG_RUNTIME_DIR;
  else process.env.XDG_RUNTIME_DIR = kSavedRuntime;
  cleanUpCli();
});

/** A primary over the metrics fixture (`block` blocks a worker), one unnamed worker in slot 0, logging to `logger`. */
async function namedCluster(serviceName: string | undefined, logger: Logger | false = false): Promise<ClusterPrimary> {
  const primary = track(new ClusterPrimary(testOptions('metrics-worker.ts', { workerCount: 1, heartbeat: false, logger, ...(serviceName === undefined ? {} : { serviceName }) })));
  await primary.start();
  return primary;
}

/** A logger whose lines a test reads. */
function captured(make: typeof createLineLogger): { logger: Logger; text(): string } {
  let text = '';
  return { logger: make({ stream: { write: (line: string) => (text += line) } }), text: () => text };
}

describe('a named worker, by its name [H351]', () => {
  it('[H351] clusterkit status and show have a name column (- for an unnamed worker), status --json the name field', async () => {
    const runtime = runtimeDir();
    process.env.XDG_RUNTIME_DIR = runtime;
    const primary = await namedCluster('names');
    const [plain] = primary.workers;
    // No roles: their column is H362's test, below.
    const [cache] = await primary.fork({ name: 'cache' });

    const status = await cli(['status', 'names'], { runtime });
    expect(status).toMatchObject({ code: 0, stderr: '' });
    expect(status.stdout).toMatch(/\n *id +pid +slot +name +state +uptime +restarts/);
    expect(status.stdout).toMatch(new RegExp(`\\n *${plain!.id} +${plain!.pid} +0 +- +ready `));
    expect(status.stdout).toMatch(new RegExp(`\\n *${cache!.id} +${cache!.pid} +1 +cache +ready `));

    const json = await cli(['status', 'names', '--json'], { runtime });
    expect(json.code).toBe(0);
    const workers = (JSON.parse(json.stdout) as ClusterStatus).workers;
    expect(workers.find((worker) => worker.slot === 1)).toMatchObject({ id: cache!.id, name: 'cache' });
    expect(workers.find((worker) => worker.slot === 0)?.name).toBeUndefined();

    const show = await cli(['show', 'names'], { runtime });
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(new RegExp(`\\n *id +pid +slot +name +state [^\\n]*\\n(.*\\n)* *${cache!.id} +${cache!.pid} +1 +cache +ready `));
  });

  it('[H362] clusterkit status and show have a roles column (- for a worker without), cut with an ellipsis past 32 characters; status --json and show --json keep every role', async () => {
    const runtime = runtimeDir();
    process.env.XDG_RUNTIME_DIR = runtime;
    const primary = await namedCluster('roles');
    const [plain] = primary.workers;
    const [cache] = await primary.fork({ name: 'cache', roles: ['batch', 'io'] });
    // 38 characters joined: past the bound (cut to 31 and an ellipsis); roles with no name beside them.
    const many = ['ingest', 'reports', 'scheduler', 'batch', 'io', 'mail'];
    const [busy] = await primary.fork({ roles: many });

    const status = await cli(['status', 'roles'], { runtime });
    expect(status).toMatchObject({ code: 0, stderr: '' });
    expect(status.stdout).toMatch(/\n *id +pid +slot +name +roles +state +uptime +restarts/);
    expect(status.stdout).toMatch(new RegExp(`\\n *${plain!.id} +${plain!.pid} +0 +- +- +ready `));
    expect(status.stdout).toMatch(new RegExp(`\\n *${cache!.id} +${cache!.pid} +1 +cache +batch,io +ready `));
    expect(status.stdout).toMatch(new RegExp(`\\n *${busy!.id} +${busy!.pid} +2 +- +ingest,reports,scheduler,batch,\u2026 +ready `));
    expect(status.stdout).toContain('roles cut at 32 characters (\u2026): --json lists every role\n');

    const json = await cli(['status', 'roles', '--json'], { runtime });
    expect(json.code).toBe(0);
    const workers = (JSON.parse(json.stdout) as ClusterStatus).workers;
    expect(workers.find((worker) => worker.slot === 1)).toMatchObject({ id: cache!.id, name: 'cache', roles: ['batch', 'io'] });
    expect(workers.find((worker) => worker.slot === 2)).toMatchObject({ id: busy!.id, roles: many });
    expect(workers.find((worker) => worker.slot === 0)?.roles).toEqual([]);

    const show = await cli(['show', 'roles'], { runtime });
    expect(show.code).toBe(0);
    expect(show.stdout).toMatch(new RegExp(`\\n *id +pid +slot +name +roles +state [^\\n]*\\n(.*\\n)* *${cache!.id} +${cache!.pid} +1 +cache +batch,io +ready `));
    const showJson = await cli(['show', 'roles', '--json'], { runtime });
    expect(showJson.code).toBe(0);
    expect((JSON.parse(showJson.stdout) as ClusterStatus).workers.find((worker) => worker.slot === 2)?.roles).toEqual(many);
  });

  it('[H351] the primary\'s lines about a named worker carry workerName= and workerRoles= (in JSON too, beside pino\'s own name)', async () => {
    const lines = captured(createLineLogger);
    const primary = await namedCluster(undefined, lines.logger);
    const [plain] = primary.workers;
    const [cache] = await primary.fork({ name: 'cache', roles: ['batch', 'io'] });
    await primary.stopWorker(cache!);
    const named = `workerId=${cache!.id} workerPid=${cache!.pid} slot=1 workerName=cache workerRoles=batch,io`;
    expect(lines.text()).toContain(`[clusterkit] worker ${cache!.id} ready ${named}\n`);
    expect(lines.text()).toContain(`[clusterkit] worker ${cache!.id} stopped ${named} code=0 signal=null\n`);
    // An unnamed worker's lines are as before.
    expect(lines.text()).toContain(`[clusterkit] worker ${plain!.id} ready workerId=${plain!.id} workerPid=${plain!.pid} slot=0\n`);

    const json = captured(createJsonLogger);
    const second = await namedCluster(undefined, json.logger);
    await second.fork({ name: 'cache', roles: ['batch'] });
    const ready = json
      .text()
      .split('\n')
      .filter(Boolean)
      .map((line) => JSON.parse(line) as Record<string, unknown>)
      .find((line) => line.slot === 1 && /^worker \d+ ready$/.test(String(line.msg)));
    // `name` stays the logger's (pino's field): the worker's is `workerName`.
    expect(ready).toMatchObject({ name: 'clusterkit', workerName: 'cache', workerRoles: 'batch' });
  });

  it('[H351] every clusterkit_worker_* series of a named worker\'s slot has its name label, clusterkit_worker_scrape_errors_total included', async () => {
    const primary = await namedCluster(undefined);
    const [cache] = await primary.fork({ name: 'cache' });
    const series = (text: string) => text.split('\n').filter((line) => line.startsWith('clusterkit_worker_') && line.includes('slot="1"'));
    const first = series(await primary.metrics());
    // Every per-slot family of the slot, each with the name: a join on slot and name finds them all.
    expect(first.map((line) => line.slice(0, line.indexOf('{'))).sort()).toEqual(
      expect.arrayContaining(['clusterkit_worker_up', 'clusterkit_worker_uptime_seconds', 'clusterkit_worker_restarts_total', 'clusterkit_worker_scrape_errors_total']),
    );
    for (const line of first) expect(line).toMatch(/\{slot="1",name="cache"\} /);
    expect(first).toContain('clusterkit_worker_scrape_errors_total{slot="1",name="cache"} 0');
    // A failed scrape is counted under the same labels.
    primary.notify(cache!, 'block');
    const blocked = await primary.metrics({ timeoutMs: 500 });
    expect(blocked).toContain('clusterkit_worker_scrape_errors_total{slot="1",name="cache"} 1\n');
    expect(blocked).toContain('clusterkit_worker_scrape_errors_total{slot="0"} 0\n');
    expect(blocked).not.toContain('clusterkit_worker_scrape_errors_total{slot="1"}');
    await primary.stopWorker(cache!, { timeoutMs: 500 });
  });
});
