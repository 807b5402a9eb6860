// A background worker with no server: it is ready once this file has run, and stops when the
// cluster stops (clusterkit ends the process after the primary's shutdown request).
const interval = Number(process.env.JOB_INTERVAL_MS ?? 1000);
let done = 0;
setInterval(() => console.log(`processed job ${++done}`), interval);
console.log(`jobs worker ${process.pid} polling every ${interval} ms`);
