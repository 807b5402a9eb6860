import type { Serialization } from 'clusterkit';
import { cpuNs, cpuNsOf } from './cpu-time.js';
import { broadcastRate, startDriver, type Implementation } from './scenarios.js';
const ser = (process.argv[2] ?? 'json') as Serialization;
const n = Number(process.argv[3] ?? 3000);
const rounds = Number(process.argv[4] ?? 3);
const only = process.argv[5] || undefined; const nw = Number(process.argv[6] ?? 4);
for (let r = 0; r < rounds; r++) {
  for (const impl of ((only ? [only] : r % 2 ? ['clusterkit', 'raw'] : ['raw', 'clusterkit']) as Implementation[])) {
    const d = await startDriver(impl, nw, ser);
    for (let w = 0; w < 3; w++) await broadcastRate(d, n);
    const p0 = cpuNs(process.pid)!, w0 = cpuNsOf(d.pids)!;
    const rate = await broadcastRate(d, n);
    const p1 = cpuNs(process.pid)!, w1 = cpuNsOf(d.pids)!;
    console.log(impl.padEnd(10), ser, 'rate', rate.toFixed(0), 'primary µs', ((p1 - p0) / n / 1000).toFixed(1), 'workers µs', ((w1 - w0) / n / 1000).toFixed(1));
    await d.stop();
  }
}
