/**
 * How many workers `clusterkit run` starts: the rule `startClusteredService` follows too. An
 * explicit count is always honoured; development mode (NODE_ENV not production) applies only
 * when the count is left out; the decision and its reason are logged once in every case.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { autoWorkerCount } from '../../src/primary/pool/cpu-limit.js';
import { freePort } from '../helpers/ports.js';
import { cleanUpCli, readyPids, runtimeDir, startCli } from './cli-process.js';

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
    expect(explicit.stderr().match(/\[explicit\] starting 2 workers: the configured count workers=2\n/g)).toHaveLength(1);
    expect(readyPids(dev)).toHaveLength(1);
    expect(dev.stderr().match(/\[dev\] starting 1 worker: development mode, because NODE_ENV is "development"; set NODE_ENV=production, or a worker count \("max": one per CPU\), for more workers=1\n/g)).toHaveLength(1);
    expect(production.stderr()).toMatch(/\[prod\] starting \d+ workers?: one per CPU workers=\d+\n/);
    for (const run of [explicit, dev, production]) process.kill(run.child.pid!, 'SIGTERM');
    await Promise.all([explicit, dev, production].map((run) => expect(run.exited()).resolves.toBe(0)));
  });

  it('runs one worker per CPU for an explicit "max" (PM2\'s -i max), whatever NODE_ENV says', async () => {
    const perCpu = autoWorkerCount();
    const flag = await started('maxflag', ['-w', 'max'], { NODE_ENV: 'development' });
    expect(readyPids(flag)).toHaveLength(perCpu);
    expect(flag.stderr()).toContain(`[maxflag] starting ${perCpu} worker${perCpu === 1 ? '' : 's'}: one per CPU ("max") workers=${perCpu}\n`);
    process.kill(flag.child.pid!, 'SIGTERM');
    await expect(flag.exited()).resolves.toBe(0);
  });
});
