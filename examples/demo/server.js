// The `npm start` demo: a plain Node.js HTTP server with no clusterkit code in it.
// `clusterkit run examples/demo/server.js --name demo --workers 4` runs it on four workers.
import http from 'node:http';

const port = Number(process.env.PORT ?? 3000);
const host = process.env.HOST ?? '127.0.0.1';
const startedAt = new Date().toISOString();
let served = 0;

const server = http.createServer((request, response) => {
  served++;
  const delay = Number(new URL(request.url ?? '/', 'http://x').searchParams.get('delay') ?? 0);
  setTimeout(() => {
    response.setHeader('content-type', 'application/json');
    response.end(`${JSON.stringify({ pid: process.pid, served, startedAt })}\n`);
  }, delay);
});

server.listen(port, host, () => {
  console.log(`listening on http://${host}:${port}`);
});
