/**
 * After a reload that failed part way, the slots it replaced run the new code and the others the
 * code from before it: `status` says so (H529, deploy tester t55 F4: `status`, `list`, `show` and
 * `/readyz` all looked healthy over two builds). Real workers, a real failed reload.
 */
import { EventEmitter } from 'node:events';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { freePort } from '../helpers/ports.js';
import { killSpawned } from '../helpers/spawn.js';
import { until } from '../helpers/wait.js';
import { lastReloadLine } from '../../src/cli/format-status.js';
import type { ClusterStatus } from '../../src/control/control-protocol.js';
import { lastReloadOf, trackLastReload } from '../../src/control/last-reload.js';
import { ReloadError } from '../../src/errors.js';
import type { ClusterPrimary } from '../../src/primary/cluster-primary.js';
import { cleanUpCli, cli, readyPids, runtimeDir, startCli, tempProject } from './cli-process.js';

afterEach(() => {
  killSpawned();
  cleanUpCli();
});

const good = (version: string) => `require('node:http').createServer((q, r) => r.end('${version}')).listen(Number(process.env.PORT));\n`;
// Slot 1 throws as it loads: the reload replaces slot 0, then fails on slot 1.
const slotOneBroken = `if (process.env.NODE_APP_INSTANCE === '1') throw new Error('slot one broken');\n${good('v2')}`;

describe('clusterkit status after a reload that failed part way [H529]', () => {
  it('[H529][H548] names the workers that still run the code from before it, also after a second failed reload, and says nothing once a reload completes', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const project = tempProject({ 'app.cjs': good('v1') });
    const run = startCli(['run', 'app.cjs', '-w', '2', '--name', 'mixed'], { runtime, cwd: project, env: { PORT: String(port) } });
    await until(() => readyPids(run).length === 2, 30_000, 'two workers ready');
    const before = await cli(['status', 'mixed'], { runtime });
    expect(before.stdout).not.toContain('last reload');

    writeFileSync(join(project, 'app.cjs'), slotOneBroken);
    const failed = await cli(['reload', 'mixed'], { runtime, ms: 30_000 });
    expect(failed.code).toBe(1);
    const status = await cli(['status', 'mixed'], { runtime });
    expect(status.stdout).toMatch(/\nlast reload: failed [\d.]+m?s ago, 1 of 2 workers replaced; worker 2 \(slot 1\) still runs the code from before it, the others the new code\n/);
    const json = JSON.parse((await cli(['status', 'mixed', '--json'], { runtime })).stdout) as { lastReload?: { outcome: string; workers: number; replaced: number; error?: string } };
    expect(json.lastReload).toMatchObject({ outcome: 'failed', workers: 2, replaced: 1 });
    expect(json.lastReload?.error).toContain('slot one broken');

    // [H548] A second failed reload (every slot's replacement throws): two builds still serve, and
    // the line says which worker runs which (before: "every worker still runs the code from before it").
    writeFileSync(join(project, 'app.cjs'), "throw new Error('all broken');\n");
    expect((await cli(['reload', 'mixed'], { runtime, ms: 30_000 })).code).toBe(1);
    const twice = await cli(['status', 'mixed'], { runtime });
    expect(twice.stdout).toMatch(
      /\nlast reload: failed [\d.]+m?s ago, 0 of 2 workers replaced; 2 reloads in a row failed; worker 2 \(slot 1\) runs the code from before the first of them, worker \d+ \(slot 0\) runs code an earlier one of them loaded\n/,
    );
    const twiceJson = JSON.parse((await cli(['status', 'mixed', '--json'], { runtime })).stdout) as { lastReload?: Record<string, unknown> };
    expect(twiceJson.lastReload).toMatchObject({ outcome: 'failed', workers: 2, replaced: 0, failedInRow: 2, firstFailedAt: expect.any(Number) });

    writeFileSync(join(project, 'app.cjs'), good('v3'));
    const fixed = await cli(['reload', 'mixed'], { runtime, ms: 30_000 });
    expect(fixed.code).toBe(0);
    expect((await cli(['status', 'mixed'], { runtime })).stdout).not.toContain('last reload');
    const after = JSON.parse((await cli(['status', 'mixed', '--json'], { runtime })).stdout) as { lastReload?: { outcome: string } };
    expect(after.lastReload).toMatchObject({ outcome: 'complete', workers: 2, replaced: 2 });
    expect((await cli(['stop', 'mixed'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  });
});

describe('the last reload line with a slot restarting on the new code [H541]', () => {
  // A reload that replaced slot 0, whose new worker then crashed: slot 0 waits out its backoff
  // with no worker, worker 7 (slot 1) still runs the old code. Before: "1 of 2 workers replaced;
  // every worker still runs the code from before it" (newcomer tester t57).
  const failing = { slot: 0, state: 'restarting', restartInMs: 5_700, failures: 7, failedStarts: 0, restarts: 9, crashes: 7, lastFailure: 'worker 15 crashed: boom' };
  const status = (failingSlots: unknown[]) =>
    ({
      name: 'api', pid: 1, state: 'running', startedAt: 0, uptimeMs: 60_000, script: 's.js', nodeVersion: 'v20.19.0',
      lastReload: { outcome: 'failed', startedAt: 40_000, endedAt: 50_000, workers: 2, replaced: 1 },
      workers: [{ id: 7, pid: 107, slot: 1, state: 'ready', uptimeMs: 30_000 }],
      failingSlots,
    }) as unknown as ClusterStatus;

  it('[H541] names the worker still on the code from before it and the slot restarting with the new code', () => {
    expect(lastReloadLine(status([failing]))).toBe('last reload: failed 10s ago, 1 of 2 workers replaced; worker 7 (slot 1) still runs the code from before it; slot 0 restarts with the new code\n');
  });

  it('[H548] after reloads failed in a row, with every worker from before the first: every worker runs the code from before the first of them', () => {
    const row = status([]);
    (row as unknown as { lastReload: Record<string, unknown> }).lastReload = { outcome: 'failed', startedAt: 40_000, endedAt: 50_000, workers: 2, replaced: 0, failedInRow: 3, firstFailedAt: 35_000 };
    expect(lastReloadLine(row)).toBe('last reload: failed 10s ago, 0 of 2 workers replaced; 3 reloads in a row failed; every worker runs the code from before the first of them\n');
  });

  it('[H561] a reload superseded after it replaced a worker, then a failed one: each build named, not "every worker still runs the code from before it"', () => {
    // The tracker, fed the events of a superseded reload that replaced slot 0 and a failed one that replaced none (hostile t58).
    const primary = new EventEmitter() as unknown as ClusterPrimary;
    const stop = trackLastReload(primary);
    const emit = (event: string, payload: unknown) => (primary as unknown as EventEmitter).emit(event, payload);
    emit('reload', { workers: 2 });
    emit('slotChange', { reason: 'replace' });
    emit('reloadFailed', { error: new ReloadError('superseded', { isSuperseded: true, workers: 2, replaced: 1 }) });
    emit('reload', { workers: 2 });
    emit('reloadFailed', { error: new ReloadError('SyntaxError', { workers: 2, replaced: 0 }) });
    stop();
    const last = lastReloadOf(primary)!;
    expect(last).toMatchObject({ outcome: 'failed', replaced: 0, failedInRow: 1, supersededInRow: 1 });
    expect(last.firstFailedAt).toBeLessThanOrEqual(last.startedAt);
    // As status reads it: worker 8 (slot 0) started during the superseded reload, worker 7 (slot 1) before it.
    const row = status([]);
    (row as unknown as { lastReload: Record<string, unknown> }).lastReload = { outcome: 'failed', startedAt: 40_000, endedAt: 50_000, workers: 2, replaced: 0, failedInRow: 1, firstFailedAt: 35_000, supersededInRow: 1 };
    (row as unknown as { workers: unknown[] }).workers = [{ id: 7, pid: 107, slot: 1, state: 'ready', uptimeMs: 30_000 }, { id: 8, pid: 108, slot: 0, state: 'ready', uptimeMs: 22_000 }];
    expect(lastReloadLine(row)).toBe(
      'last reload: failed 10s ago, 0 of 2 workers replaced; a reload before it superseded by a newer change after replacing workers; worker 7 (slot 1) runs the code from before the first of them, worker 8 (slot 0) runs code an earlier one of them loaded\n',
    );
  });

  it('[H541] says every worker still runs the code from before it only when no slot restarts with the new one', () => {
    expect(lastReloadLine(status([]))).toBe('last reload: failed 10s ago, 1 of 2 workers replaced; every worker still runs the code from before it\n');
  });
});
