/**
 * A script for stops during the start: a worker with no SIGINT or SIGTERM listener (one of the
 * group's signals ends it, as it ends a worker still booting), which says when its top-level
 * code runs and then warms up for a minute before it listens: a stop after that line always
 * comes during the start. Listens on `PORT`.
 */
export const kUnguardedStart = `import http from 'node:http';
process.removeAllListeners('SIGINT');
process.removeAllListeners('SIGTERM');
console.log('starting ' + process.pid);
await new Promise((resolve) => setTimeout(resolve, 60_000));
http.createServer((request, response) => response.end('ok')).listen(Number(process.env.PORT), '127.0.0.1');
`;
