/**
 * [H182] The processes a worker's cleanup signalled, shared with its watchdog thread: the
 * watchdog's kill (killDescendants with the list) reaches one out of the worker's tree, never a
 * process that merely has a listed pid, and the list holds what was recorded up to its capacity.
 * Real processes, real signals.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { onCleanup } from '../helpers/cleanup.js';
import { isAlive, waitUntilGone } from '../helpers/processes.js';
import { until } from '../helpers/wait.js';
import { killDescendants } from '../../src/worker/kill-descendants.js';
import { claimKill, kSignalledCapacity, recordSignalled, resumeUnlessKilling, shareSignalledList, signalledIn } from '../../src/worker/signalled-processes.js';

async function sleeper(): Promise<ChildProcess> {
  const child = spawn('sleep', ['1000'], { stdio: 'ignore' });
  onCleanup(() => child.kill('SIGKILL'));
  await once(child, 'spawn');
  return child;
}

function identityOf(pid: number): string {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  return `${pid}:${stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19]}`;
}

describe('signalled processes', () => {
  it('[H182] the watchdog kill reaches a listed process out of the tree it walks, not one whose start time differs', async () => {
    const root = await sleeper(); // no children: the tree walk finds nothing
    const listed = await sleeper();
    const other = await sleeper();
    const [pid, startTime] = identityOf(other.pid!).split(':');
    const recycled = `${pid}:${Number(startTime) + 1}`; // the same pid, another process
    const killed = killDescendants(root.pid!, 'SIGKILL', [identityOf(listed.pid!), recycled]);
    expect(killed).toEqual([identityOf(listed.pid!)]);
    await waitUntilGone([listed.pid!], 30_000);
    expect(isAlive(root.pid!)).toBe(true);
    expect(isAlive(other.pid!)).toBe(true);
  });

  it('[H182] the shared list holds each process recorded once, up to its capacity', () => {
    const buffer = shareSignalledList();
    recordSignalled(['10:500', '11:600', '10:500', '12:', 'x:1']);
    expect(signalledIn(buffer)).toEqual(['10:500', '11:600']);
    recordSignalled(Array.from({ length: kSignalledCapacity + 10 }, (_, index) => `${100 + index}:7`));
    const held = signalledIn(buffer);
    expect(held).toHaveLength(kSignalledCapacity);
    expect(held.slice(0, 3)).toEqual(['10:500', '11:600', '100:7']);
  });

  it('[H216] once the watchdog has claimed the kill, the cleanup resumes nothing it froze', async () => {
    const buffer = shareSignalledList();
    const frozen = await sleeper();
    const state = () => readFileSync(`/proc/${frozen.pid!}/stat`, 'latin1').split(') ')[1]![0];
    process.kill(frozen.pid!, 'SIGSTOP');
    await until(() => state() === 'T', 30_000, 'the sleep stopped');
    // Before the claim, the cleanup's SIGCONT goes as ever.
    expect(resumeUnlessKilling(() => process.kill(frozen.pid!, 'SIGCONT'))).toBe(true);
    await until(() => state() !== 'T', 30_000, 'the sleep resumed');
    process.kill(frozen.pid!, 'SIGSTOP');
    await until(() => state() === 'T', 30_000, 'the sleep stopped again');
    claimKill(buffer);
    let asked = false;
    expect(resumeUnlessKilling(() => (asked = true))).toBe(false);
    expect(asked).toBe(false);
    expect(state()).toBe('T');
  });
});
