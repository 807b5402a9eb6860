// The demo: a plain Node.js HTTP server with no clusterkit code in it, run on four workers.
// From a project where clusterkit is installed:
//   npm install clusterkit
//   NODE_ENV=production npx clusterkit run node_modules/clusterkit/examples/demo/server.js --name demo --workers 4
// In the clusterkit repository, `npm start` runs it so.
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
