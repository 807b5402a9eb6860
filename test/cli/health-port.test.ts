import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from '@jest/globals';
import { freePort } from '../helpers/ports.js';
import { cleanUpCli, runtimeDir, startCli } from './cli-process.js';
import { startWithGivenUpSlot } from './given-up-cluster.js';

afterEach(() => {
  cleanUpCli();
});

async function get(port: number, path: string): Promise<{ status: number; body: string }> {
  const response = await fetch(`http://127.0.0.1:${port}${path}`);
  return { status: response.status, body: await response.text() };
}

describe('clusterkit run --health-port', () => {
  it('serves /healthz, /readyz and /metrics from the primary, on its own port', async () => {
    const runtime = runtimeDir();
    const healthPort = await freePort();
    const run = startCli(['run', 'examples/demo/server.js', '-w', '2', '--name', 'probed', '--health-port', String(healthPort), '--health-host', '127.0.0.1'], {
      runtime,
      env: { PORT: String(await freePort()) },
    });
    await run.waitFor(new RegExp(`health endpoint on http://127\\.0\\.0\\.1:${healthPort}: /healthz, /readyz, /metrics`));
    await run.waitFor(/service probed started: 2 workers/);
    expect(await get(healthPort, '/healthz')).toMatchObject({ status: 200 });
    const ready = await get(healthPort, '/readyz');
    expect(ready.status).toBe(200);
    expect(JSON.parse(ready.body)).toMatchObject({ readyWorkers: 2 });
    const metrics = await get(healthPort, '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.body).toMatch(/^clusterkit_/m);
    process.kill(run.child.pid!, 'SIGTERM');
    await expect(run.exited()).resolves.toBe(0);
  });

  it('[H648] fails the start before any worker runs when the host is none of this machine\'s, naming the host\'s flag', async () => {
    // Hostile t64: `... (port 23020, the "health.port" option) ... Hint: Choose another port`, for a host that was wrong.
    const run = startCli(['run', 'examples/demo/server.js', '-w', '1', '--name', 'badhost', '--health-port', '29999', '--health-host', '192.0.2.1'], { runtime: runtimeDir() });
    await expect(run.exited()).resolves.toBe(1);
    expect(run.output()).toMatch(/its health endpoint \(host "192\.0\.2\.1", --health-host\) could not listen: .*EADDRNOTAVAIL/);
    expect(run.output()).toContain("Give one of this machine's addresses for --health-host, or leave it out to listen on all of them.");
    expect(run.output()).not.toContain('Choose another port');
    expect(run.output()).not.toMatch(/\[badhost:\d/);
  });

  it('fails the start before any worker runs when the port is taken, naming the flag', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const port = (taken.address() as { port: number }).port;
      const run = startCli(['run', 'examples/demo/server.js', '-w', '1', '--name', 'clash', '--health-port', String(port), '--health-host', '127.0.0.1'], { runtime: runtimeDir() });
      await expect(run.exited()).resolves.toBe(1);
      expect(run.output()).toMatch(new RegExp(`its health endpoint \\(port ${port}, --health-port\\) could not listen: listen EADDRINUSE: port ${port} .* is already in use`));
      expect(run.output()).not.toMatch(/\[clash:\d/);
    } finally {
      taken.close();
    }
  });

  it('[H110] names the clash when the app listens on the health port (not only "port in use")', async () => {
    const port = await freePort();
    const run = startCli(['run', 'test/fixtures/cli-env-server.mjs', '-w', '1', '--name', 'same', '--health-port', String(port), '--max-startup-failures', '1'], {
      runtime: runtimeDir(),
      env: { PORT: String(port) },
    });
    await expect(run.exited()).resolves.toBe(1);
    // Before: "listen EADDRINUSE: port N (...) is already in use", and nothing said by whom.
    const clash = `: --health-port ${port} is also the app's port (the primary's health endpoint holds it); pick another port for --health-port`;
    const lines = run.output().split('\n');
    expect(lines.filter((line) => line.includes('worker 1 could not start:'))[0]).toContain(clash);
    expect(lines.filter((line) => line.includes('could not start:') && line.includes('ERR_SERVICE_START'))[0]).toContain(clash);
  });

  it('passes the script no variable of its own for --health-port', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const run = startCli(['run', 'test/fixtures/cli-env-server.mjs', '-w', '1', '--name', 'envless', '--health-port', String(await freePort())], { runtime, env: { PORT: String(port) } });
    await run.waitFor(/service envless started: 1 worker/);
    expect(JSON.parse((await get(port, '/?vars=CLUSTERKIT_HEALTH_PORT')).body)).toMatchObject({ env: { CLUSTERKIT_HEALTH_PORT: null } });
    process.kill(run.child.pid!, 'SIGTERM');
    await expect(run.exited()).resolves.toBe(0);
  });

  it('[H455] --health-min-ready 2: /readyz answers 503 once 1 of 2 worker slots gave up (before: 200 with 1 ready)', async () => {
    const { run, healthPort } = await startWithGivenUpSlot('minready', ['--health-min-ready', '2']);
    const ready = await get(healthPort, '/readyz');
    expect(ready.status).toBe(503);
    expect(JSON.parse(ready.body)).toMatchObject({ readyWorkers: 1, minReady: 2 });
    expect(JSON.parse(ready.body).reason).toMatch(/^1 of 2 required workers ready/);
    // Liveness is the primary's: it still answers.
    expect((await get(healthPort, '/healthz')).status).toBe(200);
    process.kill(run.child.pid!, 'SIGTERM');
    await expect(run.exited()).resolves.toBe(0);
  });

  it('[H455] refuses a --health-min-ready that is no positive integer, or without --health-port', async () => {
    const runtime = runtimeDir();
    const zero = startCli(['run', 'examples/demo/server.js', '--health-port', String(await freePort()), '--health-min-ready', '0'], { runtime });
    await expect(zero.exited()).resolves.toBe(2);
    expect(zero.output()).toContain('--health-min-ready must be a positive integer. Received "0".');
    const alone = startCli(['run', 'examples/demo/server.js', '--health-min-ready', '2'], { runtime });
    await expect(alone.exited()).resolves.toBe(2);
    expect(alone.output()).toContain('--health-min-ready only applies with --health-port.');
  });
});
