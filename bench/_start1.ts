import { startKit } from './scenarios.js';
const p = await startKit(1, 'json');
await new Promise((r) => setTimeout(r, 200));
await p.shutdown();
