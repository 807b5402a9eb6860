/**
 * The dashboard during a crash loop's back-off (newcomer t39 H1, then H416): `clusterkit status`
 * said `restarting` with a row and a note per failing slot, while the dashboard showed an empty
 * worker table. Real processes: a `clusterkit run` whose deploy is broken on disk, both workers
 * killed, their restarts throwing on import, and a `clusterkit dashboard` read through its stream.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { kRepoRoot } from '../helpers/spawn.js';
import { cleanUpCli, cli, readyPids, runtimeDir, startCli, tempProject } from '../cli/cli-process.js';
import { openStream } from './dashboard-client.js';

const streams: Array<{ close(): void }> = [];
afterEach(() => {
  for (const stream of streams.splice(0)) stream.close();
  cleanUpCli();
});

interface Note {
  slot: number;
  state: string;
  text: string;
}

const kNote = /^restarting: slot [01] restarts in \d+\.\ds, after \d+ exits in a row \(\d+ failed starts?(?: in a row)?\); last failure: worker \d+ \(pid \d+\) could not start: the script .*cli-fails-on-reload\.mjs threw on import: Error: the new release is broken/;

describe('the dashboard during a crash loop [H416]', () => {
  it('[H416] streams a note per failing slot, in the words of clusterkit status, with each tick and in the snapshot of a page opened meanwhile', async () => {
    const runtime = runtimeDir();
    const project = tempProject({});
    const flag = join(project, 'broken');
    // A 5 s back-off, doubled: after the restarts that throw, about 10 s with no worker at all.
    writeFileSync(
      join(project, 'ck.config.cjs'),
      `module.exports = { apps: [{ name: 'dcl', script: ${JSON.stringify(join(kRepoRoot, 'test/fixtures/cli-fails-on-reload.mjs'))}, workers: 2, restartBackoff: '5s', startupWindow: 0, maxStartupFailures: 10, env: { CLI_FIXTURE_FLAG: ${JSON.stringify(flag)} } }] };\n`,
    );
    const run = startCli(['run', '-c', 'ck.config.cjs'], { runtime, cwd: project });
    await run.waitFor(/service dcl started: 2 workers/, 30_000);
    const dashboard = startCli(['dashboard', 'dcl', '--port', '0'], { runtime });
    const [, url] = await dashboard.waitFor(/dashboard for cluster dcl: (http:\/\/\S+)/);
    const port = Number(new URL(url!).port);
    const stream = await openStream(port);
    streams.push(stream);
    const first = await stream.next('snapshot', 30_000);
    expect(first.slotNotes).toEqual([]);

    writeFileSync(flag, '');
    for (const pid of readyPids(run)) process.kill(pid, 'SIGKILL');
    await run.waitFor(/ERROR worker \d+ could not start[^\n]*\n[\s\S]*ERROR worker \d+ could not start/, 30_000);

    // The ticks that follow: both slots restarting after their failed starts, each with its note
    // (before: no such field). The first ones after the kills note the kills themselves.
    const deadline = Date.now() + 30_000;
    const isLoopTick = (tick: { status: { state: string }; slotNotes?: Note[] }) =>
      tick.status.state === 'restarting' && tick.slotNotes?.filter((note) => note.state === 'restarting' && kNote.test(note.text)).length === 2;
    let tick: { status: { state: string; failingSlots?: unknown[] }; slotNotes?: Note[] };
    do {
      tick = await stream.next('tick', 10_000);
      if (Date.now() > deadline) throw new Error(`no tick with two slots restarting after failed starts within 30 s; last: ${JSON.stringify(tick.slotNotes)}`);
    } while (!isLoopTick(tick));
    const notes = tick.slotNotes!;
    expect(notes.map((note) => note.slot).sort()).toEqual([0, 1]);
    for (const note of notes) expect(note.text).toMatch(kNote);

    // The same lines `clusterkit status` prints under its table.
    const text = (await cli(['status', 'dcl'], { runtime })).stdout;
    for (const note of notes) expect(text).toMatch(new RegExp(`^restarting: slot ${note.slot} restarts in \\d+\\.\\ds, after `, 'm'));

    // A page opened now starts with them.
    const late = await openStream(port);
    streams.push(late);
    const snapshot = await late.next('snapshot', 10_000);
    // Its back-off (10 s) may end meanwhile on a loaded machine: a slot then notes its next start.
    expect((snapshot.slotNotes as Note[]).map((note) => note.slot).sort()).toEqual([0, 1]);
    for (const note of snapshot.slotNotes as Note[]) expect(note.text).toMatch(/^(restarting: slot [01] restarts (in \d+\.\ds|now)|starting: slot [01] \(worker \d+\) starts again), after \d+ exits in a row .*the new release is broken/);

    // The page draws them: its script reads the notes and has a place for them.
    const page = await fetch(new URL('/', url!));
    expect(await page.text()).toContain('id="slot-notes"');
    const script = await (await fetch(new URL('/dashboard.js', url!))).text();
    expect(script).toContain('slotNotes');

    expect((await cli(['stop', 'dcl'], { runtime, ms: 30_000 })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  });
});
