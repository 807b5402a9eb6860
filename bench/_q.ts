import { kPayloads, pipelinedThroughput, startDriver, type Implementation } from './scenarios.js';
const [impl = 'clusterkit', ser = 'json', size = '10 KB', inflight = '64'] = process.argv.slice(2);
const d = await startDriver(impl as Implementation, 2, ser as 'json');
const p = kPayloads[size as '10 KB'];
const n = size === '1 MB' ? 400 : 30000;
for (let i = 0; i < 3; i++) await pipelinedThroughput(d, Number(inflight), p, n);
const r: number[] = [];
for (let i = 0; i < 3; i++) r.push(await pipelinedThroughput(d, Number(inflight), p, n));
console.log(impl, size, inflight, r.map((x) => Math.round(x)).join(' '));
// correctness
const back = await d.request(d.targets[0], { a: 'y'.repeat(5000), b: ['\u0000x', 'z'.repeat(2000) + 'é€😀'], c: { d: '\u0000' + 'q'.repeat(3000) } });
const ok = JSON.stringify(back) === JSON.stringify({ a: 'y'.repeat(5000), b: ['\u0000x', 'z'.repeat(2000) + 'é€😀'], c: { d: '\u0000' + 'q'.repeat(3000) } });
console.log('roundtrip ok', ok);
await d.stop();
