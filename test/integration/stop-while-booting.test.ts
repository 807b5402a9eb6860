/**
 * Any stop of a worker still booting (no `$hello` yet: none of its code runs) ends it at once
 * with SIGTERM, as a scale-down did alone before (H200): a whole shutdown, a reload cut short.
 * Before (H202), its `$shutdown` waited for a `$hello` a slow boot (a big import on a loaded
 * machine) put past the shutdown timeout: SIGKILLed there, counted killed. The slow workers
 * boot for two minutes (boots-slowly.ts), far past the 30 s timeout: still booting, for certain.
 */
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import type { ShutdownReport } from '../../src/index.js';
import { describeReload } from '../../src/cli/control-outcome.js';
import { reloadWithCounts } from '../../src/control/stop-counts.js';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { ReloadError, ReloadInterruptedError, type WorkerExitEvent, type WorkerHandle } from '../../src/index.js';
import { capturedLogger } from '../helpers/captured-logger.js';
import { onCleanup } from '../helpers/cleanup.js';
import { testPrimary } from '../helpers/primary.js';
import { onceEvent, record, until } from '../helpers/wait.js';

const kSlow = 'workers/boots-slowly.ts';
const kTimeoutMs = 30_000;
/** Far below the timeout, generous for a loaded machine: the SIGTERM ends the process at once. */
const kPromptMs = kTimeoutMs / 2;

/** boots-slowly.ts's env: the first `fast` workers start at once, the others boot for two minutes. */
function slowBoots(fast: number): { env: Record<string, string>; bootingPid(): number | undefined } {
  const dir = mkdtempSync(join(tmpdir(), 'ck-booting-'));
  onCleanup(() => rmSync(dir, { recursive: true, force: true }));
  const bootingPid = () => {
    try {
      return Number(readFileSync(join(dir, 'booting'), 'utf8')) || undefined;
    } catch {
      return undefined;
    }
  };
  return { env: { BOOT_FAST: String(fast), BOOT_DELAY_MS: '120000', BOOT_DIR: dir }, bootingPid };
}

const kEndedLine = 'stopped before it was ready: its stop came before its code started (ended by SIGTERM)';

describe('stops of a worker still booting', () => {
  it('[H202] a shutdown during the start ends the worker still booting at once: stopped before it was ready, not killed at the timeout', async () => {
    const { logger, text } = capturedLogger();
    const boots = slowBoots(1);
    const primary = testPrimary({ workerCount: 2, shutdownTimeoutMs: kTimeoutMs, logger, env: boots.env }, kSlow);
    const exits = record<WorkerExitEvent>(primary, 'workerExit');
    try {
      const started = primary.start();
      started.catch(() => {});
      await until(() => boots.bootingPid() !== undefined, 60_000, 'a worker booting');
      const begun = Date.now();
      const report = await primary.shutdown();
      // Before: about 30 s, the SIGKILL at the timeout.
      expect(Date.now() - begun).toBeLessThan(kPromptMs);
      await expect(started).rejects.toThrow();
      const exit = exits.events.find((event) => event.worker.pid === boots.bootingPid());
      expect(exit).toMatchObject({ signal: 'SIGTERM', killed: false, expected: true, isEndedUnstarted: true });
      expect(report.killed).toEqual([]);
      expect(report.failed).toEqual([]);
      expect(report.interrupted).toBe('start');
      expect(report.notStarted).toContain(exit!.worker);
      expect(text()).toContain(`worker ${exit!.worker.id} ${kEndedLine}`);
    } finally {
      exits.stop();
    }
  }, 120_000);

  it('[H202] a shutdown that cuts a reload short ends its replacement still booting at once, counted as not started', async () => {
    const { logger, text } = capturedLogger();
    const boots = slowBoots(1);
    const primary = testPrimary({ workerCount: 1, shutdownTimeoutMs: kTimeoutMs, logger, env: boots.env }, kSlow);
    const [first] = await primary.start();
    const exits = record<WorkerExitEvent>(primary, 'workerExit');
    try {
      const reloaded = primary.reload();
      reloaded.catch(() => {});
      await until(() => boots.bootingPid() !== undefined, 60_000, 'the replacement booting');
      const begun = Date.now();
      const report = await primary.shutdown();
      expect(Date.now() - begun).toBeLessThan(kPromptMs);
      // A ReloadError of its subclass for a stop (H756).
      await expect(reloaded).rejects.toMatchObject({ constructor: ReloadInterruptedError, isShutdown: true });
      await expect(reloaded).rejects.toBeInstanceOf(ReloadError);
      const exit = exits.events.find((event) => event.worker.pid === boots.bootingPid());
      expect(exit).toMatchObject({ signal: 'SIGTERM', killed: false, expected: true, isEndedUnstarted: true });
      expect(report).toMatchObject({ graceful: [first], failed: [], killed: [], interrupted: 'replacement', notStarted: [exit!.worker] });
      expect(text()).toContain(`worker ${exit!.worker.id} ${kEndedLine}`);
    } finally {
      exits.stop();
    }
  }, 120_000);

  it('[H202] a worker whose $hello is on its way when the shutdown comes takes the SIGTERM as a stop signal and stops gracefully', async () => {
    const { logger, text } = capturedLogger();
    const dir = mkdtempSync(join(tmpdir(), 'ck-hello-'));
    onCleanup(() => rmSync(dir, { recursive: true, force: true }));
    const gate = join(dir, 'go');
    const primary = testPrimary({ workerCount: 1, shutdownTimeoutMs: kTimeoutMs, logger, env: { HELLO_GATE_FILE: gate } }, 'workers/hello-in-flight.ts');
    const exits = record<WorkerExitEvent>(primary, 'workerExit');
    try {
      const forked = onceEvent<{ worker: WorkerHandle }>(primary, 'workerFork', 60_000);
      const started = primary.start();
      started.catch(() => {});
      const { worker } = await forked;
      // Its `_init` blocks the loop: `$hello` is queued in it, the primary has not read it.
      await until(() => existsSync(`${gate}.blocked`), 60_000, 'the worker in its _init');
      const stopping = primary.shutdown();
      // Its stop began: `$shutdown` waits for the `$hello`, and the SIGTERM went.
      await until(() => worker.state === 'stopping', 30_000, 'the stop begun');
      writeFileSync(gate, '');
      const report = await stopping;
      const exit = exits.events.find((event) => event.worker === worker);
      // Not ended by the SIGTERM: its own stop ran (a worker without its listener dies of it).
      expect(exit).toMatchObject({ code: 0, signal: null, killed: false, expected: true });
      expect(exit!.isEndedUnstarted).toBeUndefined();
      expect(report).toMatchObject({ failed: [], killed: [], notStarted: [worker] });
      expect(text()).toContain(`worker ${worker.id} stopped before it was ready`);
      expect(text()).not.toContain(kEndedLine);
    } finally {
      exits.stop();
    }
  }, 120_000);

  it('[H211] a reload whose old worker is a restart still booting counts it as not started, not as a graceful stop', async () => {
    const boots = slowBoots(1);
    const primary = testPrimary({ workerCount: 1, shutdownTimeoutMs: kTimeoutMs, env: boots.env }, kSlow);
    const [first] = await primary.start();
    const completes = record<{ replaced: number; stopped: ShutdownReport }>(primary, 'reloadComplete');
    try {
      process.kill(first!.pid!, 'SIGKILL');
      // Its restart takes no fast place: it boots for two minutes.
      await until(() => boots.bootingPid() !== undefined, 60_000, 'the restart booting');
      const restart = primary.workers.find((worker) => worker.pid === boots.bootingPid())!;
      // The reload's replacement takes the fast place the killed worker held.
      rmSync(join(boots.env.BOOT_DIR!, 'fast-1'));
      const counts = await reloadWithCounts(primary, () => primary.reload());
      // Before: graceful [the restart], a worker that never served counted as an old worker stopped cleanly.
      expect(completes.events[0]!.stopped).toEqual({ graceful: [], failed: [], killed: [], requestsCut: 0, notStarted: [restart] });
      expect(counts).toMatchObject({ workers: 1, graceful: 0, failed: 0, killed: 0, notStarted: 1 });
      expect(counts).not.toHaveProperty('interrupted');
      expect(describeReload('t', counts)).toBe('reloaded t: 1 worker replaced, no request cut off; 1 old worker stopped before it was ready');
    } finally {
      completes.stop();
    }
  }, 120_000);
});
