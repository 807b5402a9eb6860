import { startDriver, type Implementation } from './scenarios.js';
const impl = process.argv[2] as Implementation;
const t = performance.now();
const d = await startDriver(impl, 1, 'json');
console.log(impl, 'ready ms', (performance.now() - t).toFixed(1));
await d.stop();
