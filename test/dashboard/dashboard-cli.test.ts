/**
 * `clusterkit dashboard` as a command: its arguments, its output, its ports. The cluster it
 * reads is a control socket with canned answers, served by this test process.
 */
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { ClusterStatus } from '../../src/control/control-protocol.js';
import { startControlServer, type ControlServer } from '../../src/control/control-server.js';
import { EventLog } from '../../src/control/event-log.js';
import { cleanUpCli, cli, runtimeDir, startCli } from '../cli/cli-process.js';
import { request } from './dashboard-client.js';

const controls: ControlServer[] = [];
afterEach(() => {
  for (const control of controls.splice(0)) control.close();
  cleanUpCli();
});

/** A control socket named `name` in `runtime` that answers like an empty running cluster. */
async function fakeCluster(runtime: string, name: string): Promise<void> {
  const log = new EventLog();
  const status = { name, pid: process.pid, state: 'running', startedAt: 0, uptimeMs: 1, script: 'x.js', targetWorkers: 0, nodeVersion: process.version, workers: [], protocolErrors: 0 };
  const control = await startControlServer(
    name,
    {
      status: () => status as ClusterStatus,
      reload: async () => ({ workers: 0 }),
      scale: async () => status,
      stop: async () => ({}),
      afterStop: () => {},
      events: (after) => log.read(after),
    },
    join(runtime, 'clusterkit'),
  );
  controls.push(control);
}

describe('clusterkit dashboard', () => {
  it('exits 2 with a message for bad input, before serving anything', async () => {
    const runtime = runtimeDir();
    const cases: Array<[string[], RegExp]> = [
      [['dashboard'], /Missing the cluster name\./],
      [['dashboard', 'a', 'b'], /Unexpected argument "b"\./],
      [['dashboard', 'a/b'], /"a\/b" is not a cluster name/],
      [['dashboard', 'api', '--port', 'http'], /--port must be a port number from 0 to 65535 \(0 for any free port\)\. Received "http"\./],
      [['dashboard', 'api', '--port', '70000'], /--port must be a port number/],
      [['dashboard', 'api', '--host', ''], /--host needs an address/],
      [['dashboard', 'api', '--bogus'], /Unknown option --bogus\./],
    ];
    const results = await Promise.all(cases.map(([args]) => cli(args, { runtime })));
    results.forEach((result, index) => {
      const [args, message] = cases[index]!;
      expect({ args, code: result.code, stdout: result.stdout }).toEqual({ args, code: 2, stdout: '' });
      expect(result.stderr).toMatch(new RegExp(`^clusterkit: ${message.source}`));
    });
    // Typed right, but no such cluster: exit 4, as every control command (H224).
    expect(await cli(['dashboard', 'ghost'], { runtime })).toMatchObject({ code: 4, stdout: '', stderr: expect.stringMatching(/^clusterkit: No cluster named "ghost" is running\./) });
    const help = await cli(['dashboard', '--help'], { runtime });
    expect(help).toMatchObject({ code: 0, stderr: '' });
    expect(help.stdout).toMatch(/^Usage: clusterkit dashboard <name> \[options\]/);
    expect(help.stdout).toMatch(/Examples:\n {2}clusterkit dashboard api\n/);
    expect((await cli(['--help'], { runtime })).stdout).toMatch(/^ {2}dashboard <name> /m);
  });

  it('prints its URL, finds a free port when the usual one is taken, serves until SIGTERM', async () => {
    const runtime = runtimeDir();
    await fakeCluster(runtime, 'api');
    // Two dashboards without --port: one may get the usual port, the other (at least) another.
    const first = startCli(['dashboard', 'api'], { runtime });
    const second = startCli(['dashboard', 'api'], { runtime });
    const urls = await Promise.all([first, second].map(async (run) => (await run.waitFor(/dashboard for cluster api: (http:\/\/127\.0\.0\.1:\d+\/)\n/))[1]!));
    expect(new Set(urls).size).toBe(2);
    await first.waitFor(/read-only \(add --allow-control for reload and scale buttons\); Ctrl-C to quit\n/);
    for (const url of urls) expect((await request(Number(new URL(url).port), '/')).status).toBe(200);
    // A port given explicitly and taken is an error, not a silent switch.
    const taken = await cli(['dashboard', 'api', '--port', new URL(urls[0]!).port], { runtime });
    expect(taken.code).toBe(2);
    expect(taken.stderr).toMatch(/^clusterkit: Port \d+ is in use; pick another with --port, or --port 0 for any free one\./);
    for (const run of [first, second]) {
      run.child.kill('SIGTERM');
      await expect(run.exited()).resolves.toBe(0);
    }
  });

  it('--open says when no browser could be started, with the URL, and serves on', async () => {
    const runtime = runtimeDir();
    await fakeCluster(runtime, 'api');
    // An opener that finds no browser, as xdg-open on a server or in a container (exit 3).
    const bin = mkdtempSync(join(tmpdir(), 'ck-bin-'));
    try {
      for (const opener of ['xdg-open', 'open']) {
        writeFileSync(join(bin, opener), '#!/bin/sh\nexit 3\n');
        chmodSync(join(bin, opener), 0o755);
      }
      const run = startCli(['dashboard', 'api', '--port', '0', '--open'], { runtime, env: { PATH: `${bin}:${process.env.PATH ?? ''}` } });
      const [, url] = await run.waitFor(/dashboard for cluster api: (http:\/\/127\.0\.0\.1:\d+\/)\n/);
      // Before: nothing, and the user waited for a browser that never came.
      await run.waitFor(new RegExp(`clusterkit: no browser could be started \\((xdg-)?open exited with code 3\\); open ${url!.replaceAll('.', '\\.')} yourself\\.\n`));
      expect((await request(Number(new URL(url!).port), '/')).status).toBe(200);
      run.child.kill('SIGTERM');
      await expect(run.exited()).resolves.toBe(0);
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  });
});
