// The api app of ecosystem.config.cjs: a plain HTTP server, written for PM2's wait_ready. It
// listens, warms up, then says process.send('ready'); clusterkit (wait_ready: true) counts the
// worker ready only then, so a start or reload never sends it a request before.
import http from 'node:http';
import { parseArgs } from 'node:util';

const { values } = parseArgs({ options: { greeting: { type: 'string', default: 'hi' } } });
const server = http.createServer((request, response) => {
  response.setHeader('content-type', 'application/json');
  response.end(
    `${JSON.stringify({
      greeting: values.greeting,
      mode: process.env.APP_MODE,
      nodeEnv: process.env.NODE_ENV ?? null,
      instance: process.env.NODE_APP_INSTANCE,
      pid: process.pid,
    })}\n`,
  );
});

server.listen(Number(process.env.PORT ?? 3000), '127.0.0.1', () => {
  // A cache to fill, a connection to open: whatever the app needs before its first request.
  setTimeout(() => process.send?.('ready'), 100);
});
