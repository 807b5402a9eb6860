/**
 * The primary of `clusterkit run` (no --error, no --log) killed with SIGKILL: its orphaned
 * workers' last lines, which nothing read (their stderr was a pipe to the dead primary), are
 * kept in the control directory's `<name>.orphans.log`, shown by `clusterkit logs <name>` while
 * no cluster of the name runs, and logged once by the name's next primary, which removes the
 * file (H417); lines that come in while it runs are reported at its clean stop (H437); `logs`
 * exits 4 after printing them (H438); a hostile file cannot fail `run` (H439). The CLI binary
 * run directly, real workers, a real SIGKILL.
 */
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { freePort } from '../helpers/ports.js';
import { waitUntilGone } from '../helpers/processes.js';
import { cleanUpCli, cli, readyPids, runtimeDir, startCli } from './cli-process.js';

afterEach(() => cleanUpCli());

/** Starts `run` of the slow server, 2 workers, a 1 s shutdown timeout (or `timeout`); its worker pids and port once started. */
async function started(name: string, runtime: string, timeout = '1s'): Promise<{ run: ReturnType<typeof startCli>; pids: number[]; port: number }> {
  const port = await freePort();
  const run = startCli(['run', 'test/fixtures/cli-slow-server.mjs', '-w', '2', '--name', name, '--shutdown-timeout', timeout], { runtime, env: { PORT: String(port) } });
  await run.waitFor(new RegExp(`service ${name} started: 2 workers`));
  return { run, pids: readyPids(run), port };
}

/** Writes `<name>.orphans.log` by hand in the runtime's control directory (0700, the file 0600), as a hostile or old file would be. */
function plantOrphansFile(runtime: string, name: string, text: string): string {
  const directory = join(runtime, 'clusterkit');
  mkdirSync(directory, { recursive: true, mode: 0o700 });
  const file = join(directory, `${name}.orphans.log`);
  writeFileSync(file, text, { mode: 0o600 });
  return file;
}

describe('clusterkit run: the lines of workers orphaned by a killed primary', () => {
  it('[H417] primary SIGKILLed, no --error/--log: `clusterkit logs <name>` shows each orphan\'s two lines; the next run logs them once and removes the file', async () => {
    const runtime = runtimeDir();
    const { run, pids } = await started('orph', runtime);
    expect(pids).toHaveLength(2);
    process.kill(run.child.pid!, 'SIGKILL');
    // The orphans drain for the shutdown timeout, then exit (bound generous for a loaded machine).
    await waitUntilGone(pids, 60_000);
    const file = join(runtime, 'clusterkit', 'orph.orphans.log');
    // `status` points at them (before: "No cluster named ... is running" alone).
    const status = await cli(['status', 'orph'], { runtime });
    expect(status.code).toBe(4);
    expect(status.stderr).toContain('left 4 lines on how they stopped: "clusterkit logs orph" shows them.');
    // Before: no such file, and `logs` said only that no cluster of the name runs (exit 4).
    const logs = await cli(['logs', 'orph'], { runtime });
    expect(logs.code).toBe(4); // not running, lines or none (H438)
    expect(logs.stderr).toContain(`clusterkit: cluster orph is not running: its last primary (pid ${run.child.pid}) ended without stopping (killed or crashed). These 4 lines come from its workers, orphaned then`);
    for (const pid of pids) {
      expect(logs.stdout).toMatch(new RegExp(`\\[orph:\\d err\\] \\[clusterkit\\] WARN worker \\d \\(pid ${pid}\\): its primary \\(pid ${run.child.pid}\\) is gone \\(killed or crashed: its IPC channel closed\\); it stops on its own`));
      expect(logs.stdout).toMatch(new RegExp(`\\[orph:\\d err\\] \\[clusterkit\\] WARN worker \\d \\(pid ${pid}\\) stopped on its own \\d+ ms after its primary was gone: no request was cut off`));
    }
    expect(lstatSync(file).mode & 0o777).toBe(0o600);
    // Each line has when its worker found its primary gone, no later than the line (H451).
    for (const line of readFileSync(file, 'utf8').trim().split('\n').map((text) => JSON.parse(text) as { time: number; orphanedAt: number })) {
      expect(line.orphanedAt).toBeLessThanOrEqual(line.time);
    }

    // The next primary of the name: the lines are the first of its log, then the file is gone.
    const again = await started('orph', runtime);
    expect(again.run.output()).toContain('4 lines from workers orphaned by the previous primary of orph (it ended without stopping: killed or crashed)');
    expect(existsSync(file)).toBe(false);
    const shown = await cli(['logs', 'orph', '--lines', '100'], { runtime });
    expect(shown.code).toBe(0);
    const all = shown.stdout + shown.stderr;
    for (const pid of pids) expect(all).toMatch(new RegExp(`orphaned worker, \\S+Z: worker \\d \\(pid ${pid}\\) stopped on its own`));
  });

  it('[H447] an orphan whose stop did not finish cleanly says why in its last line, not "see the lines above" (lines nobody read)', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    // Its SIGINT listener never ends the process: the stop fails at its deadline.
    const run = startCli(['run', 'test/fixtures/cli-cleanup-script.mjs', '-w', '1', '--name', 'orph-why', '--shutdown-timeout', '1s'], { runtime, env: { PORT: String(port), CLEANUP: 'hang' } });
    await run.waitFor(/service orph-why started: 1 worker/);
    const pids = readyPids(run);
    process.kill(run.child.pid!, 'SIGKILL');
    await waitUntilGone(pids, 60_000);
    const logs = await cli(['logs', 'orph-why'], { runtime });
    // Before: `its stop did not finish cleanly (see the lines above)`, and no line above said why.
    expect(logs.stdout).not.toContain('see the lines above');
    expect(logs.stdout).toMatch(/stopped on its own \d+ ms after its primary was gone: its stop did not finish cleanly \(its own SIGINT listener had not ended the process by its deadline \(\d+ ms\)\), no request was cut off/);
  });

  it('[H417] a link planted at the file\'s path is not followed: its target is left as it was, and `logs` shows nothing of it', async () => {
    const runtime = runtimeDir();
    const { run, pids } = await started('orph2', runtime);
    const target = join(runtime, 'target.txt');
    writeFileSync(target, 'keep\n');
    const file = join(runtime, 'clusterkit', 'orph2.orphans.log');
    symlinkSync(target, file);
    process.kill(run.child.pid!, 'SIGKILL');
    await waitUntilGone(pids, 60_000);
    expect(readFileSync(target, 'utf8')).toBe('keep\n');
    expect(lstatSync(file).isSymbolicLink()).toBe(true);
    const logs = await cli(['logs', 'orph2'], { runtime });
    expect(logs.code).toBe(4); // not running: the link was not read
    expect(logs.stderr).not.toContain('keep');
    expect(logs.stderr).not.toContain('orphaned then');
  });

  it('[H437] orphans still draining when the next run of the name starts: their late lines are reported at its clean stop, no file survives it, and `status` blames no one', async () => {
    const runtime = runtimeDir();
    const first = await started('orph3', runtime, '10s');
    // A slow request in flight: its orphan drains it, then writes "stopped on its own", late.
    const answer = fetch(`http://127.0.0.1:${first.port}/?ms=3000`).then((response) => response.text(), () => '');
    await first.run.waitFor(/request \d+/);
    process.kill(first.run.child.pid!, 'SIGKILL');
    const again = await started('orph3', runtime, '10s');
    // The late lines arrive while the new primary runs (before: they made a new file then).
    await waitUntilGone(first.pids, 60_000);
    await answer;
    const file = join(runtime, 'clusterkit', 'orph3.orphans.log');
    const stop = await cli(['stop', 'orph3'], { runtime });
    expect(stop.code).toBe(0);
    await again.run.exited();
    // Before: the file survived the clean stop.
    expect(existsSync(file)).toBe(false);
    expect(readdirSync(join(runtime, 'clusterkit')).filter((entry) => entry.includes('orphans'))).toEqual([]);
    const output = again.run.output();
    for (const pid of first.pids) expect(output).toMatch(new RegExp(`orphaned worker, \\S+Z: worker \\d \\(pid ${pid}\\) stopped on its own`));
    expect(output).toMatch(/lines? from workers orphaned by an earlier primary of orph3 \(it ended without stopping: killed or crashed\), which they wrote while this primary ran/);
    const status = await cli(['status', 'orph3'], { runtime });
    expect(status.code).toBe(4);
    expect(status.stderr).not.toContain('orphaned');
    expect(status.stderr).not.toContain('killed or crashed');
  });

  it('[H438] `clusterkit logs <name>` with no cluster running and an orphans file: prints its lines, then exits 4 as without one, filtered out or not, with -f too', async () => {
    const runtime = runtimeDir();
    plantOrphansFile(runtime, 'orph4', `${JSON.stringify({ time: Date.now(), workerId: 1, pid: 4242, msg: 'worker 1 (pid 4242) stopped on its own' })}\n`);
    const logs = await cli(['logs', 'orph4'], { runtime });
    expect(logs.stdout).toContain('worker 1 (pid 4242) stopped on its own');
    expect(logs.code).toBe(4); // before: 0
    for (const args of [['--worker', '9'], ['--out'], ['-f']]) {
      const other = await cli(['logs', 'orph4', ...args], { runtime });
      expect(other.stderr).toContain('cluster orph4 is not running');
      expect([args, other.code]).toEqual([args, 4]);
    }
  });

  it('[H439] a hostile orphans file (a time past Date\'s range, a negative pid, not JSON): `run` skips those lines, says so once, reports the good one, and runs and stops cleanly', async () => {
    const runtime = runtimeDir();
    const file = plantOrphansFile(
      runtime,
      'orph5',
      [
        JSON.stringify({ time: 1e20, msg: 'x' }),
        JSON.stringify({ time: Date.now(), pid: -1, msg: 'bad pid' }),
        'not json',
        JSON.stringify({ time: Date.now(), workerId: 1, pid: 4242, msg: 'the good line' }),
      ].join('\n') + '\n',
    );
    // Before: new Date(1e20).toISOString() threw as the name was claimed, and run never started.
    const { run } = await started('orph5', runtime);
    const output = run.output();
    expect(output).toContain(`3 lines of ${file} did not read as an orphaned worker's line`);
    expect(output).toMatch(/orphaned worker, \S+Z: the good line/);
    expect(output).not.toContain('bad pid');
    expect(existsSync(file)).toBe(false);
    const stop = await cli(['stop', 'orph5'], { runtime });
    expect(stop.code).toBe(0);
    expect(await run.exited()).toBe(0);
  });

  it('[H451] times no worker could have written (negative, zero, before 2020, far ahead) are skipped and counted; a line says when it was written and when its worker was orphaned', async () => {
    const runtime = runtimeDir();
    const orphanedAt = Date.now() - 2_000;
    const time = orphanedAt + 500;
    const file = plantOrphansFile(
      runtime,
      'orph6',
      [
        JSON.stringify({ time: -5, msg: 'neg' }),
        JSON.stringify({ time: 0, msg: 'zero' }),
        JSON.stringify({ time: Date.UTC(2019, 11, 31), msg: 'too early' }),
        JSON.stringify({ time: Date.now() + 30 * 24 * 3600_000, msg: 'too late' }),
        JSON.stringify({ time, orphanedAt: -1, msg: 'bad orphanedAt' }),
        JSON.stringify({ time, orphanedAt, workerId: 1, pid: 4242, msg: 'the good line' }),
      ].join('\n') + '\n',
    );
    // Before: the negative time was shown as 1969-12-31T23:59:59.995Z, with orphanedAt=-5.
    const { run } = await started('orph6', runtime);
    const output = run.output();
    expect(output).toContain(`5 lines of ${file} did not read as an orphaned worker's line`);
    expect(output).not.toMatch(/neg|zero|too early|too late|bad orphanedAt|1969|1970/);
    const good = output.split('\n').find((line) => line.includes('the good line'))!;
    expect(good).toContain(`writtenAt=${time}`);
    expect(good).toContain(`orphanedAt=${orphanedAt}`);
    const stop = await cli(['stop', 'orph6'], { runtime });
    expect(stop.code).toBe(0);
    expect(await run.exited()).toBe(0);
  });

  it('[H452] `clusterkit logs <name>` with no cluster running: the orphan lines on stdout (a redirect keeps them), the note alone on stderr, exit 4', async () => {
    const runtime = runtimeDir();
    plantOrphansFile(runtime, 'orph7', `${JSON.stringify({ time: Date.now(), workerId: 1, pid: 4242, msg: 'worker 1 (pid 4242) stopped on its own' })}\n`);
    const logs = await cli(['logs', 'orph7'], { runtime });
    expect(logs.code).toBe(4);
    expect(logs.stdout).toMatch(/^\S.*worker 1 \(pid 4242\) stopped on its own\n$/); // before: ''
    expect(logs.stderr).toContain('cluster orph7 is not running');
    expect(logs.stderr).not.toContain('stopped on its own');
  });
});
