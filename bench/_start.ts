import type { Serialization } from 'clusterkit';
import { startToReady, type Implementation } from './scenarios.js';
const ser = (process.argv[2] ?? 'json') as Serialization;
const trials = Number(process.argv[3] ?? 8);
const res: Record<string, number[]> = { raw: [], clusterkit: [] };
for (let t = 0; t < trials; t++) for (const impl of (t % 2 ? ['clusterkit', 'raw'] : ['raw', 'clusterkit']) as Implementation[]) res[impl]!.push(await startToReady(impl, 4, ser));
const med = (a: number[]) => a.sort((x, y) => x - y)[Math.floor(a.length / 2)]!;
console.log(ser, 'raw', med(res.raw!).toFixed(0), 'kit', med(res.clusterkit!).toFixed(0), 'ratio', (med(res.clusterkit!) / med(res.raw!)).toFixed(2), process.env.CLUSTERKIT_BULK ?? '');
