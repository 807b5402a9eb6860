import { broadcastRate, startDriver, type Implementation } from './scenarios.js';
const [impl = 'clusterkit', ser = 'json', n = '3000'] = process.argv.slice(2);
const d = await startDriver(impl as Implementation, 4, ser as 'json');
for (let i = 0; i < 3; i++) await broadcastRate(d, Number(n));
const r: number[] = [];
for (let i = 0; i < 3; i++) r.push(await broadcastRate(d, Number(n)));
console.log(impl, 'bcast/s', r.map((x) => Math.round(x)).join(' '));
await d.stop();
