/**
 * How many workers `clusterkit run` starts: the rule `startClusteredService` follows too. An
 * explicit count is always honoured; development mode (NODE_ENV not production) applies only
 * when the count is left out; the decision and its reason are logged once in every case.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { autoWorkerCount } from '../../src/primary/pool/cpu-limit.js';
import { freePort } from '../helpers/ports.js';
import { cleanUpCli, cli, readyPids, runtimeDir, startCli, tempProject } from './cli-process.js';

afterEach(() => cleanUpCli());

async function started(name: string, args: string[], env: Record<string, string>) {
  const run = startCli(['run', 'examples/demo/server.js', '--name', name, ...args], { runtime: runtimeDir(), env: { PORT: String(await freePort()), ...env } });
  await run.waitFor(new RegExp(`service ${name} started`));
  return run;
}

describe('clusterkit run: how many workers', () => {
  it('honours -w outside production, runs one worker in development mode otherwise, and says why once', async () => {
    const [explicit, dev, production] = await Promise.all([
      started('explicit', ['-w', '2'], { NODE_ENV: 'development' }),
      started('dev', [], { NODE_ENV: 'development' }),
      // The workers' NODE_ENV counts: --env sets it for them.
      started('prod', ['--env', 'NODE_ENV=production'], { NODE_ENV: 'development' }),
    ]);
    expect(readyPids(explicit)).toHaveLength(2);
    expect(explicit.stderr().match(/\[explicit\] starting 2 workers: --workers 2 on the command line workers=2\n/g)).toHaveLength(1);
    expect(readyPids(dev)).toHaveLength(1);
    expect(dev.stderr().match(/\[dev\] starting 1 worker: development mode, because NODE_ENV is "development"; set NODE_ENV=production, or a worker count \("max": one per CPU\), for more workers=1\n/g)).toHaveLength(1);
    expect(production.stderr()).toMatch(/\[prod\] starting \d+ workers?: one per CPU \(the default\) workers=\d+\n/);
    for (const run of [explicit, dev, production]) process.kill(run.child.pid!, 'SIGTERM');
    await Promise.all([explicit, dev, production].map((run) => expect(run.exited()).resolves.toBe(0)));
  });

  it('runs one worker per CPU for an explicit "max" (PM2\'s -i max), whatever NODE_ENV says', async () => {
    const perCpu = autoWorkerCount();
    const flag = await started('maxflag', ['-w', 'max'], { NODE_ENV: 'development' });
    expect(readyPids(flag)).toHaveLength(perCpu);
    expect(flag.stderr()).toContain(`[maxflag] starting ${perCpu} worker${perCpu === 1 ? '' : 's'}: one per CPU (--workers max on the command line) workers=${perCpu}\n`);
    process.kill(flag.child.pid!, 'SIGTERM');
    await expect(flag.exited()).resolves.toBe(0);
  });

  // Before: "the configured count" for a count typed on the command line, even over a file's
  // own count, and "one per CPU" for a count nobody set (newcomer t24).
  it('[H226] names the flag that set the count, over a config file\'s, and the default, in the start line and in show', async () => {
    const runtime = runtimeDir();
    const project = tempProject({ 'idle.mjs': 'setInterval(() => {}, 1 << 30);\n', 'clusterkit.config.json': JSON.stringify({ apps: [{ name: 'filed', script: 'idle.mjs', workers: 2 }] }) });
    const flag = startCli(['run', 'filed', '-w', '1'], { runtime, cwd: project, env: { NODE_ENV: 'development' } });
    const byDefault = startCli(['run', 'test/fixtures/cli-idle-script.mjs', '--name', 'dflt'], { runtime, env: { NODE_ENV: 'production' } });
    await Promise.all([flag.waitFor(/service filed started/), byDefault.waitFor(/service dflt started/)]);
    expect(flag.stderr()).toContain('[filed] starting 1 worker: --workers 1 on the command line workers=1\n');
    const perCpu = autoWorkerCount();
    expect(byDefault.stderr()).toContain(`[dflt] starting ${perCpu} worker${perCpu === 1 ? '' : 's'}: one per CPU (the default) workers=${perCpu}\n`);
    const show = await cli(['show', 'filed'], { runtime });
    expect(show).toMatchObject({ code: 0, stdout: expect.stringContaining('\ninstances         1 at start: --workers 1 on the command line; now 1,') });
    for (const run of [flag, byDefault]) process.kill(run.child.pid!, 'SIGTERM');
    await Promise.all([flag, byDefault].map((run) => expect(run.exited()).resolves.toBe(0)));
  });
});
