import { afterEach, describe, expect, it } from '@jest/globals';
import { freePort } from '../helpers/ports.js';
import { cleanUpCli, cli, runtimeDir, startCli } from './cli-process.js';

afterEach(() => {
  cleanUpCli();
});

async function readyz(port: number): Promise<{ status: number; body: { reason?: string } }> {
  const response = await fetch(`http://127.0.0.1:${port}/readyz`);
  return { status: response.status, body: JSON.parse(await response.text()) as { reason?: string } };
}

describe('a worker count under --health-min-ready', () => {
  it('[H464] clusterkit scale below --health-min-ready scales, and warns on stderr and in the log that /readyz stays 503', async () => {
    const runtime = runtimeDir();
    const healthPort = await freePort();
    const run = startCli(['run', 'examples/demo/server.js', '-w', '2', '--name', 'minscale', '--health-port', String(healthPort), '--health-host', '127.0.0.1', '--health-min-ready', '2'], {
      runtime,
      env: { PORT: String(await freePort()) },
    });
    await run.waitFor(/service minscale started: 2 workers/);
    expect(run.output()).not.toMatch(/ERR_READINESS_UNREACHABLE|fewer than the 2 ready workers/);
    const scaled = await cli(['scale', 'minscale', '1'], { runtime });
    expect(scaled.code).toBe(0);
    expect(scaled.stdout).toMatch(/scaled minscale to 1 worker/);
    // Before: nothing at all, and /readyz 503 for good.
    expect(scaled.stderr).toContain(
      `clusterkit: warning: Scaled to 1 worker, fewer than the 2 ready workers the health endpoint on port ${healthPort} requires (--health-min-ready; healthMinReady in a config file): /readyz answers 503 "1 of 2 required workers ready"`,
    );
    await run.waitFor(new RegExp(`Scaled to 1 worker, fewer than the 2 ready workers the health endpoint on port ${healthPort} requires \\(--health-min-ready`));
    expect((await readyz(healthPort)).status).toBe(503);
    // Back at the minimum: no warning.
    const up = await cli(['scale', 'minscale', '2'], { runtime });
    expect(up.code).toBe(0);
    expect(up.stderr).not.toMatch(/warning/);
    process.kill(run.child.pid!, 'SIGTERM');
    await expect(run.exited()).resolves.toBe(0);
  });

  it('[H464] -w 1 --health-min-ready 2 warns at the start that /readyz cannot answer 200', async () => {
    const runtime = runtimeDir();
    const healthPort = await freePort();
    const run = startCli(['run', 'examples/demo/server.js', '-w', '1', '--name', 'minstart', '--health-port', String(healthPort), '--health-host', '127.0.0.1', '--health-min-ready', '2'], {
      runtime,
      env: { PORT: String(await freePort()) },
    });
    await run.waitFor(/service minstart started: 1 worker/);
    expect(run.output()).toMatch(new RegExp(`The cluster runs 1 worker, fewer than the 2 ready workers the health endpoint on port ${healthPort} requires \\(--health-min-ready`));
    process.kill(run.child.pid!, 'SIGTERM');
    await expect(run.exited()).resolves.toBe(0);
  });
});
