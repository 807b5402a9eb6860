/**
 * [H171] The orphan watchdog's thread boots as much CPU as a third of a Node process's start,
 * and the worker arms it just as it begins to serve. It runs 10 nice steps below the worker's
 * main thread, so that boot takes idle CPU rather than the first requests' (src/worker/orphan-watchdog.ts).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from '@jest/globals';
import { testPrimary } from '../helpers/primary.js';
import { until } from '../helpers/wait.js';

/** The nice value of thread `tid` of process `pid` (field 19 of its stat line). */
function niceOf(pid: number, tid: string): number {
  const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[16]);
}

/** Each live thread of `pid` with its nice value (a thread that ended meanwhile is left out). */
function threadNices(pid: number): Array<{ tid: string; nice: number }> {
  const threads: Array<{ tid: string; nice: number }> = [];
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    try {
      threads.push({ tid, nice: niceOf(pid, tid) });
    } catch {
      // ended between the listing and the read
    }
  }
  return threads;
}

describe.each(process.platform === 'linux' ? ['linux'] : [])('watchdog priority (%s)', () => {
  it('[H171] the orphan watchdog thread runs 10 nice steps below the worker; every other thread keeps the worker\'s priority', async () => {
    const primary = testPrimary();
    await primary.start();
    const pid = primary.workers[0]!.pid!;
    const main = niceOf(pid, String(pid));
    const lowered = Math.min(19, main + 10);
    // Under `nice -n 19` there is no step left to take: then every thread shares the worker's.
    const expectedLowered = lowered === main ? 0 : 1;
    // The watchdog is armed once start() has resolved: its thread appears shortly after.
    await until(() => threadNices(pid).filter((thread) => thread.nice === lowered && thread.tid !== String(pid)).length >= (expectedLowered || 1), 30_000, 'the watchdog thread, lowered');
    expect(threadNices(pid).filter((thread) => thread.nice !== main)).toHaveLength(expectedLowered);
    expect(niceOf(pid, String(pid))).toBe(main);
  });
});
