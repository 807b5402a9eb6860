/** The CPU the primary reads of a worker itself (H390), not the worker's word. */
import { describe, expect, it } from '@jest/globals';
import { cpuOf } from '../../src/primary/features/worker-stats.js';
import { isCpuMeasured, nextMeasuredCpu, parseCpuTicks, readCpuTicks } from '../../src/primary/pool/measured-cpu.js';
import type { WorkerRecord } from '../../src/primary/pool/worker-record.js';

/** A /proc/<pid>/stat line with the given command name, utime and stime. */
const statLine = (comm: string, utime: number, stime: number) =>
  `4242 (${comm}) R 1 4242 4242 0 -1 4194304 1500 0 0 0 ${utime} ${stime} 0 0 20 0 11 0 123456 1024000 5000 18446744073709551615 1 1 0 0 0 0 0 4096 134234626 0 0 0 17 1 0 0 0 0 0`;

describe('measured CPU', () => {
  it('[H390] reads utime + stime in clock ticks, counted from the last ")" of a command name with spaces and parentheses', () => {
    expect(parseCpuTicks(statLine('node', 250, 50))).toBe(300);
    expect(parseCpuTicks(statLine('my (odd) worker 1 2 3', 7, 3))).toBe(10);
    expect(parseCpuTicks('garbage')).toBeUndefined();
    expect(parseCpuTicks('1 (node) R 1')).toBeUndefined();
  });

  it('[H390] gives the percentage over the interval since the previous read, since the fork for the first', () => {
    const first = nextMeasuredCpu(undefined, 50, 1_000, 2_000);
    expect(first).toEqual({ ticks: 50, at: 1_000, cpuSeconds: 0.5, cpuPercent: 25 });
    // 100 ticks (1 s) in 1 s: one core fully busy.
    expect(nextMeasuredCpu(first, 150, 2_000, 3_000)).toMatchObject({ cpuSeconds: 1.5, cpuPercent: 100 });
    expect(nextMeasuredCpu(first, 50, 1_000, 3_000).cpuPercent).toBe(0);
  });

  it('[H390] on Linux, the CPU time process.cpuUsage() gives the process itself; elsewhere nothing is read', async () => {
    const reading = readCpuTicks(process.pid);
    if (!isCpuMeasured) {
      expect(reading).toBeUndefined();
      return;
    }
    const ticks = await reading;
    const { user, system } = process.cpuUsage();
    const own = (user + system) / 1e6;
    // Ticks are 10 ms; the read itself takes a little CPU.
    expect(ticks! / 100).toBeGreaterThan(own - 0.1);
    expect(ticks! / 100).toBeLessThan(own + 0.1);
    await expect(readCpuTicks(2 ** 30)).resolves.toBeUndefined();
  });

  it('[H390] stats() takes the primary\'s reading, not the answer\'s; where it cannot read, a silent worker\'s answer figures are left out', () => {
    const health = { cpuPercent: 1, cpuSeconds: 2 };
    const record = { health, measuredCpu: { ticks: 300, at: 0, cpuSeconds: 3, cpuPercent: 99.5 }, isCpuUnreadable: false } as unknown as WorkerRecord;
    expect(cpuOf(record, true, true)).toEqual({ cpuPercent: 99.5, cpuSeconds: 3, isCpuMeasured: true });
    expect(cpuOf(record, false, true)).toEqual({ cpuPercent: 99.5, cpuSeconds: 3, isCpuMeasured: true });
    // Not Linux: the answer's, and none while silent.
    expect(cpuOf(record, false, false)).toEqual({ cpuPercent: 1, cpuSeconds: 2, isCpuMeasured: false });
    expect(cpuOf(record, true, false)).toEqual({ cpuPercent: undefined, cpuSeconds: undefined, isCpuMeasured: false });
    // Its reads failed (hidepid): as elsewhere.
    const unreadable = { health, measuredCpu: undefined, isCpuUnreadable: true } as unknown as WorkerRecord;
    expect(cpuOf(unreadable, false, true)).toEqual({ cpuPercent: 1, cpuSeconds: 2, isCpuMeasured: false });
    expect(cpuOf(unreadable, true, true)).toEqual({ cpuPercent: undefined, cpuSeconds: undefined, isCpuMeasured: false });
  });
});
