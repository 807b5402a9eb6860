import type { Serialization } from 'clusterkit';
import { cpuNs, cpuNsOf } from './cpu-time.js';
import { startDriver, type Implementation } from './scenarios.js';
const ser = (process.argv[2] ?? 'json') as Serialization;
const trials = Number(process.argv[3] ?? 8);
const res: Record<string, { p: number[]; w: number[]; wall: number[] }> = { raw: { p: [], w: [], wall: [] }, clusterkit: { p: [], w: [], wall: [] } };
for (let t = 0; t < trials; t++) for (const impl of (t % 2 ? ['clusterkit', 'raw'] : ['raw', 'clusterkit']) as Implementation[]) {
  await new Promise((r) => setTimeout(r, 300));
  const p0 = cpuNs(process.pid)!; const t0 = process.hrtime.bigint();
  const d = await startDriver(impl, 4, ser);
  const wall = Number(process.hrtime.bigint() - t0) / 1e6;
  const p1 = cpuNs(process.pid)!; const w = cpuNsOf(d.pids)!;
  res[impl]!.p.push((p1 - p0) / 1e6); res[impl]!.w.push(w / 1e6 / 4); res[impl]!.wall.push(wall);
  await d.stop();
}
const med = (a: number[]) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)]!.toFixed(1);
for (const impl of ['raw', 'clusterkit']) console.log(ser, impl.padEnd(10), 'primary ms', med(res[impl]!.p), 'per worker ms', med(res[impl]!.w), 'wall', med(res[impl]!.wall), process.env.CLUSTERKIT_BULK ?? '');
