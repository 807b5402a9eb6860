/**
 * A `logger` option whose methods throw or reject (a closed log sink) loses its lines, never the
 * primary nor a worker: its first failure is a LoggerError, said once, on the primary's 'error'
 * event when heard, else as a process warning, never through the logger itself (H727).
 */
import { describe, expect, it } from '@jest/globals';
import { testPrimary } from '../helpers/primary.js';
import { onceEvent } from '../helpers/wait.js';
import { spawnScript } from '../helpers/spawn.js';
import { isAlive } from '../helpers/processes.js';
import { startService } from '../runner/service-process.js';

const kAdvice = "The line it was given is lost; nothing else is, and later failures of this logger are not said again. Make the logger's methods never throw or reject: a sink that can fail (a closed stream, a full disk) should drop or buffer the line.";

interface Result {
  warnings: { name: string; code: unknown; message: string }[];
  calls: Record<'debug' | 'info' | 'warn' | 'error', number>;
  echoed: unknown;
}

function runFixture(mode: 'throws' | 'rejects') {
  const run = spawnScript('test/fixtures/logger-failure-primary.ts', { env: { MODE: mode } });
  return {
    run,
    async result(): Promise<{ code: number | string; result: Result | undefined }> {
      const code = await run.exited();
      const line = run.stdout().split('\n').find((text) => text.includes('"result"'));
      return { code, result: line === undefined ? undefined : (JSON.parse(line) as Result) };
    },
  };
}

describe('a logger that fails', () => {
  // Before (hostile t83 #5): `clusterkit: a listener of "workerExit" threw and nothing listens for
  // 'error' ...`, the primary exited 1 and its workers were orphaned; a listener the user never added.
  it('[H727] a warn() that throws, nothing listening for error: the primary restarts the crashed worker and serves; one LoggerError warning names the method', async () => {
    const fixture = runFixture('throws');
    const { code, result } = await fixture.result();
    expect({ code, stderr: fixture.run.stderr() }).toEqual({ code: 0, stderr: expect.any(String) });
    expect(result!.echoed).toBe('still here');
    expect(result!.warnings).toEqual([{ name: 'LoggerError', code: 'ERR_LOGGER_FAILED', message: `The warn() method of the "logger" option threw: Error: log sink closed (EPIPE). ${kAdvice}` }]);
    expect(fixture.run.stderr()).not.toContain('a listener of');
    // Called on after the failure (its later lines too), reported once only.
    expect(result!.calls.warn).toBeGreaterThanOrEqual(1);
    expect(result!.calls.info).toBeGreaterThanOrEqual(3);
  });

  it('[H727] methods that return rejected promises: no unhandled rejection, the primary goes on; one LoggerError warning says it rejected', async () => {
    const fixture = runFixture('rejects');
    const { code, result } = await fixture.result();
    expect({ code, stderr: fixture.run.stderr() }).toEqual({ code: 0, stderr: expect.any(String) });
    expect(result!.echoed).toBe('still here');
    expect(result!.warnings).toEqual([{ name: 'LoggerError', code: 'ERR_LOGGER_FAILED', message: `The info() method of the "logger" option returned a promise that rejected: Error: async sink boom in info. ${kAdvice}` }]);
    expect(result!.calls.info).toBeGreaterThanOrEqual(3);
  });

  it("[H727] heard once on the primary's 'error' event as a LoggerError with the method, the cause, and no warning; the logger is still called", async () => {
    const calls = { debug: 0, info: 0, warn: 0, error: 0 };
    const failing = (method: keyof typeof calls) => () => {
      calls[method]++;
      if (method !== 'debug') throw new Error(`log sink closed (EPIPE) in ${method}`);
    };
    const logger = { debug: failing('debug'), info: failing('info'), warn: failing('warn'), error: failing('error') };
    const primary = testPrimary({ logger, workerCount: 2 });
    const heard: Error[] = [];
    primary.on('error', (error) => heard.push(error));
    const [first] = await primary.start();
    const replaced = onceEvent(primary, 'workerReady');
    await primary.send(first!, 'exitSoon', { code: 3 });
    await replaced;
    // Before: each failing line reached 'error' as the logger's own Error, said as a listener's throw.
    expect(heard).toHaveLength(1);
    expect(heard[0]).toMatchObject({ name: 'LoggerError', code: 'ERR_LOGGER_FAILED', method: 'info', isRejection: false, message: `The info() method of the "logger" option threw: Error: log sink closed (EPIPE) in info. ${kAdvice}` });
    expect((heard[0]!.cause as Error).message).toBe('log sink closed (EPIPE) in info');
    // The two ready lines, the crash line, the replacement's ready line: still given to the logger.
    expect(calls.info).toBeGreaterThanOrEqual(3);
    expect(calls.warn + calls.error).toBeGreaterThanOrEqual(1);
  });

  // After H727, `primary.options.logger` was the internal guard, a copy with the four methods, not the object given.
  it('[H761] options.logger is the logger given; its lines still go through the guard', async () => {
    let infos = 0;
    const logger = { debug() {}, info() { infos++; throw new Error('log sink closed'); }, warn() {}, error() {}, child() { return logger; } };
    const primary = testPrimary({ logger, workerCount: 1 });
    expect(primary.options.logger).toBe(logger);
    expect(Object.isFrozen(primary.options)).toBe(true);
    expect(primary.options).toBe(primary.options);
    const heard: Error[] = [];
    primary.on('error', (error) => heard.push(error));
    await primary.start();
    expect(infos).toBeGreaterThanOrEqual(1);
    expect(heard).toEqual([expect.objectContaining({ name: 'LoggerError', method: 'info' })]);
    expect(primary.options.logger).toBe(logger);
  });

  it("[H727] the service runner's logger: a worker's warn() that throws ends neither the worker nor the primary; each says it once as a process warning", async () => {
    const service = startService({ RUNNER_OPTIONS: JSON.stringify({ workers: 2 }), RUNNER_LOGGER_THROWS: '1' });
    const [started] = await service.waitForLines('started');
    const primaryPid = started!.pid as number;
    const [kept, crashed] = started!.pids as number[];
    const warning = (pid: number, where: string) => new RegExp(`\\(node:${pid}\\) \\[ERR_LOGGER_FAILED\\] LoggerError: The warn\\(\\) method of the "logger" option threw: Error: warn sink closed in ${where}\\.`, 'g');
    // A stray SIGHUP is logged by the worker's own logger, and ignored. Before: the worker died of the throw.
    process.kill(kept!, 'SIGHUP');
    await service.waitFor(warning(kept!, 'a worker'));
    // The crash line is the primary's. Before: the primary died of the throw, its workers orphaned.
    process.kill(crashed!, 'SIGKILL');
    await service.waitForLines('onWorkerStartup', 3);
    await service.waitFor(warning(primaryPid, 'the primary'));
    expect(isAlive(kept!)).toBe(true);
    process.kill(primaryPid, 'SIGTERM');
    await expect(service.exited()).resolves.toBe(0);
    const output = service.output();
    expect(output.match(warning(primaryPid, 'the primary'))).toHaveLength(1);
    expect(output.match(warning(kept!, 'a worker'))).toHaveLength(1);
    expect(output).not.toContain('a listener of');
  });
});
