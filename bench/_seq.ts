import { kPayloads, startDriver, type Implementation } from './scenarios.js';
const [impl = 'clusterkit', kb = '10'] = process.argv.slice(2);
const d = await startDriver(impl as Implementation, 2, 'json');
const payload = { data: 'x'.repeat(Number(kb) * 1024 - 12) };
for (let i = 0; i < 3000; i++) await d.request(d.targets[0], payload);
const n = 3000; const s = new Float64Array(n);
for (let i = 0; i < n; i++) { const t = process.hrtime.bigint(); await d.request(d.targets[0], payload); s[i] = Number(process.hrtime.bigint() - t) / 1000; }
s.sort();
console.log(impl, process.env.CLUSTERKIT_BULK === '0' ? 'nobulk' : 'bulk  ', kb + 'KB', 'p50', s[n / 2]!.toFixed(0), 'p99', s[Math.floor(n * 0.99)]!.toFixed(0), 'us');
await d.stop();
void kPayloads;
