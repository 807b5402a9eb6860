// The jobs app of ecosystem.config.cjs: a background worker with no server. It is ready once
// this file has run, and stops when the cluster stops.
const interval = Number(process.env.JOB_INTERVAL_MS ?? 1000);
let done = 0;
setInterval(() => console.log(`processed job ${++done}`), interval);
console.log(`jobs worker ${process.pid} polling every ${interval} ms`);
