import { drive, kPayloads, startDriver, type Implementation } from './scenarios.js';
const [impl = 'clusterkit', mode = 'cold'] = process.argv.slice(2);
if (mode === 'warmprimary') {
  const d0 = await startDriver(impl as Implementation, 2, 'json');
  await drive(d0, 64, kPayloads['64 B'], 40000);
  await d0.stop();
}
const d = await startDriver(impl as Implementation, 2, 'json');
const t = process.hrtime.bigint();
await drive(d, 64, kPayloads['64 B'], 40000);
const ms = Number(process.hrtime.bigint() - t) / 1e6;
console.log(impl, mode, Math.round(40000 / ms * 1000), 'req/s');
await d.stop();
