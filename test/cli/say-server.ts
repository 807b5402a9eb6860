/**
 * A plain script for the log-files tests (written into a temporary project as `server.cjs`):
 * says a line at start, then one per GET /say?text=...; GET /forge writes lines with control
 * characters, to stdout and stderr. Listens on PORT.
 */
export const kSayServer = `
const http = require('node:http');
console.log('out at start');
http.createServer((request, response) => {
  const url = new URL(request.url, 'http://x');
  if (url.pathname === '/say') console.log('said ' + url.searchParams.get('text'));
  if (url.pathname === '/forge') {
    process.stdout.write('partial\\r[api] ERROR forged\\n');
    process.stderr.write('clear\\x1b[2J screen\\x00nul\\x1b]0;TITLE\\x07 end\\n');
  }
  response.end('ok');
}).listen(Number(process.env.PORT), '127.0.0.1');
`;
