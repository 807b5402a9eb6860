import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { autoWorkerCount, cgroupCpuQuota } from '../../src/primary/pool/cpu-limit.js';

const roots: string[] = [];

afterEach(() => {
  for (const root of roots.splice(0)) rmSync(root, { recursive: true, force: true });
});

function fakeRoot(files: Record<string, string>): string {
  const root = `${mkdtempSync(join(tmpdir(), 'clusterkit-cgroup-'))}/`;
  roots.push(root);
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(dirname(join(root, path)), { recursive: true });
    writeFileSync(join(root, path), content);
  }
  return root;
}

describe('CPU limit of a container', () => {
  it('reads a cgroup v2 quota, on the cgroup or an ancestor', () => {
    expect(cgroupCpuQuota(fakeRoot({ 'proc/self/cgroup': '0::/kubepods/pod1\n', 'sys/fs/cgroup/kubepods/pod1/cpu.max': '250000 100000\n' }))).toBe(2.5);
    expect(cgroupCpuQuota(fakeRoot({ 'proc/self/cgroup': '0::/a/b\n', 'sys/fs/cgroup/a/b/cpu.max': 'max 100000', 'sys/fs/cgroup/a/cpu.max': '100000 100000' }))).toBe(1);
    expect(cgroupCpuQuota(fakeRoot({ 'proc/self/cgroup': '0::/\n', 'sys/fs/cgroup/cpu.max': 'max 100000' }))).toBeUndefined();
  });

  it('reads a cgroup v1 quota', () => {
    const root = fakeRoot({
      'proc/self/cgroup': '4:cpu,cpuacct:/docker/abc\n',
      'sys/fs/cgroup/cpu,cpuacct/cpu.cfs_quota_us': '300000',
      'sys/fs/cgroup/cpu,cpuacct/cpu.cfs_period_us': '100000',
    });
    expect(cgroupCpuQuota(root)).toBe(3);
    expect(cgroupCpuQuota(fakeRoot({ 'proc/self/cgroup': '4:cpu:/\n', 'sys/fs/cgroup/cpu/cpu.cfs_quota_us': '-1', 'sys/fs/cgroup/cpu/cpu.cfs_period_us': '100000' }))).toBeUndefined();
  });

  it("caps 'auto' by the quota, rounding down, at least 1", () => {
    expect(autoWorkerCount(fakeRoot({ 'proc/self/cgroup': '0::/\n', 'sys/fs/cgroup/cpu.max': '50000 100000' }))).toBe(1);
    expect(autoWorkerCount(fakeRoot({ 'proc/self/cgroup': '0::/\n', 'sys/fs/cgroup/cpu.max': `${availableParallelism() * 400000} 100000` }))).toBe(availableParallelism());
    expect(autoWorkerCount(fakeRoot({}))).toBe(availableParallelism());
  });
});
