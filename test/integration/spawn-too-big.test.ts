/**
 * An environment the operating system refuses (E2BIG): Node throws `spawn E2BIG` from
 * cluster.fork() itself, where ENOENT would come as an 'error' event. Every kernel limit is met
 * for real: 40 variables of 100 KiB each (4 MiB; each under Linux's 128 KiB per string, the
 * total over the 2 MiB a default 8 MiB stack allows).
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { cleanUpCli, cli, runtimeDir, tempProject } from '../cli/cli-process.js';
import { InvalidOptionError, WorkerStartupError } from '../../src/index.js';
import { testPrimary } from '../helpers/primary.js';
import { jsonLines, kProcessPatienceMs, spawnScript } from '../helpers/spawn.js';

const kTooBig = /its environment is too large for the operating system \(spawn E2BIG\): the environment is [\d.]+ MiB in \d+ variables, the largest "BIG_\d+" at 100\.0 KiB/;

/** 40 variables of 100 KiB: 4 MiB in all. */
function hugeEnv(prefix: string): Record<string, string> {
  return Object.fromEntries(Array.from({ length: 40 }, (_, index) => [`${prefix}_${index}`, 'x'.repeat(100 * 1024)]));
}

/** What `call` rejects with (undefined when it resolves). */
async function rejection(call: () => Promise<unknown>): Promise<unknown> {
  return call().then(
    () => undefined,
    (error: unknown) => error,
  );
}

function expectTooBig(error: unknown): void {
  expect(error).toBeInstanceOf(WorkerStartupError);
  const startup = error as WorkerStartupError;
  expect(startup).toMatchObject({ code: 'ERR_WORKER_STARTUP', reason: 'spawn-failed', workerId: undefined });
  expect(startup.message).toMatch(kTooBig);
  expect((startup.cause as NodeJS.ErrnoException).code).toBe('E2BIG');
}

/** `count` lines `NAME_i=<100 KiB>`, as an env file holds them. */
function envLines(prefix: string, count: number): string {
  return Object.entries(hugeEnv(prefix)).slice(0, count).map(([name, value]) => `${name}=${value}\n`).join('');
}

afterEach(() => cleanUpCli());

describe('an environment too large to spawn', () => {
  // Before: start() and fork() rejected with the raw "spawn E2BIG", no class, code or size.
  it('[H23] rejects start() and fork() with WorkerStartupError saying how large the environment is', async () => {
    const refused = testPrimary({ env: hugeEnv('BIG'), workerCount: 2 });
    expectTooBig(await rejection(() => refused.start()));

    const primary = testPrimary({ workerCount: 1 });
    await primary.start();
    expectTooBig(await rejection(() => primary.fork({ env: hugeEnv('BIG') })));
    // The primary and its worker serve on; a fork that fits still works.
    const [worker] = await primary.fork({ env: { SMALL: 'yes' } });
    await expect(primary.send(worker!, 'env', { key: 'SMALL' })).resolves.toBe('yes');
  });

  // Before: a worker argument over the kernel's limit reached spawn (every fork failed), and an
  // E2BIG caused by many arguments was told to shrink the environment.
  it('[H23] refuses one argument over 128 KiB at construction, and blames the arguments when they are what is too large', async () => {
    expect(() => testPrimary({ workerArgs: ['x'.repeat(128 * 1024)] })).toThrow(InvalidOptionError);
    expect(() => testPrimary({ execArgv: ['--a\0b'] })).toThrow(/The "execArgv\[0\]" option must be a string without a NUL byte/);
    expect(() => testPrimary({ workerArgs: ['ok', 'x'.repeat(200 * 1024)] })).toThrow(/The "workerArgs\[1\]" option must be a string of at most 131071 bytes \(the kernel's limit for one argument\)/);
    // 40 arguments of 100 KiB: each fits, all together do not.
    const refused = testPrimary({ workerArgs: Array.from({ length: 40 }, () => 'a'.repeat(100 * 1024)) });
    const error = (await rejection(() => refused.start())) as WorkerStartupError;
    expect(error).toBeInstanceOf(WorkerStartupError);
    expect(error.message).toMatch(/its arguments \([\d.]+ MiB\) are too large for the operating system \(spawn E2BIG\)/);
    expect(error.message).toMatch(/Shrink the "workerArgs" and "execArgv" options/);
    expect(error.message).not.toMatch(/Shrink the "env" option/);
    // A large environment and large arguments, each with a real share: both are named.
    const mixed = testPrimary({ env: hugeEnv('BIG'), workerArgs: Array.from({ length: 12 }, () => 'a'.repeat(100 * 1024)) });
    const both = (await rejection(() => mixed.start())) as WorkerStartupError;
    expect(both.message).toMatch(/its environment and arguments together \([\d.]+ MiB\) are too large for the operating system \(spawn E2BIG\)/);
    expect(both.message).toMatch(/Shrink the "env" option .*, or the "workerArgs" and "execArgv" options/);
  });

  // Before: the restart timer threw "spawn E2BIG" and the primary died of it.
  it('[H23] reload() fails and the old worker serves on; a restart that cannot spawn backs off to a crash loop; the primary lives, scale() rejects', async () => {
    const primary = spawnScript('test/fixtures/env-growth-primary.ts');
    await primary.waitFor(/"event":"done".*\n/, kProcessPatienceMs);
    const lines = jsonLines<{ event: string; error?: { code: string; message: string; reason?: string; cause?: { code: string; message: string; reason: string } }; reason?: string; remainingSlots?: number; state?: string }>(primary.stdout());
    // A reload cannot replace the worker: it fails, and the old worker serves on.
    const started = lines.find((line) => line.event === 'started') as unknown as { pid: number };
    expect(lines.find((line) => line.event === 'reload')).toMatchObject({
      error: { code: 'ERR_RELOAD_FAILED', cause: { code: 'ERR_WORKER_STARTUP', reason: 'spawn-failed', message: expect.stringMatching(kTooBig) } },
      serving: [started.pid],
    });
    // A PrimaryBlockedError is no spawn's warning: a loaded machine may give one as the primary copies a 10 MiB env (under-load run).
    const warnings = lines.filter((line) => line.event === 'warning' && line.error?.code !== 'ERR_PRIMARY_BLOCKED');
    expect(warnings.length).toBeGreaterThanOrEqual(1);
    for (const { error } of warnings) expect(error).toMatchObject({ code: 'ERR_WORKER_STARTUP', reason: 'spawn-failed', message: expect.stringMatching(kTooBig) });
    expect(lines.find((line) => line.event === 'crashLoop')).toMatchObject({
      reason: 'startup-failures',
      remainingSlots: 0,
      error: { code: 'ERR_CRASH_LOOP', cause: { code: 'ERR_WORKER_STARTUP', reason: 'spawn-failed', message: expect.stringMatching(kTooBig) } },
    });
    expect(lines.find((line) => line.event === 'scale')).toMatchObject({ error: { code: 'ERR_WORKER_STARTUP', message: expect.stringMatching(kTooBig) } });
    expect(lines.find((line) => line.event === 'done')).toEqual({ event: 'done', state: 'running' });
    await expect(primary.exited()).resolves.toBe(0);
  });

  // Before: "clusterkit: spawn E2BIG". An env file (at most 1 MiB) on top of a large inherited
  // environment: each fits, together they do not (the CLI's own command line could not carry it).
  it('[H23] clusterkit run with --env-file over the limit prints one error line and exits non-zero', async () => {
    const project = tempProject({ 'big.env': envLines('BIG', 10), 'idle.mjs': 'setInterval(() => {}, 1000);\n' });
    const inherited = Object.fromEntries(Object.entries(hugeEnv('INHERITED')).slice(0, 12));
    const { code, stdout, stderr } = await cli(['run', 'idle.mjs', '--name', 'too-big', '--workers', '2', '--env-file', 'big.env'], { runtime: runtimeDir(), cwd: project, env: inherited });
    expect(code).not.toBe(0);
    const errors = `${stdout}${stderr}`.split('\n').filter((line) => /E2BIG|ERROR|clusterkit:/.test(line));
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatch(/could not be spawned: its environment is too large for the operating system \(spawn E2BIG\): the environment is [\d.]+ MiB/);
    expect(errors[0]).toContain('--env-file');
  });
});
