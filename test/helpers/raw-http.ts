/**
 * One HTTP/1.1 request written by hand, request target and headers exactly as given (a client
 * library would refuse or fix `http://[` or an absolute-form target, and merges a header given
 * twice): what a hostile local client can send. `headers` as pairs may repeat a name. Resolves
 * with the status code.
 */
import { once } from 'node:events';
import net from 'node:net';

export async function rawRequest(
  port: number,
  target: string,
  headers: Record<string, string> | ReadonlyArray<readonly [string, string]> = { Host: '127.0.0.1' },
  method = 'GET',
): Promise<{ status: number; body: string }> {
  const socket = net.connect(port, '127.0.0.1');
  await once(socket, 'connect');
  const pairs = Array.isArray(headers) ? headers : Object.entries(headers);
  const lines = pairs.map(([name, value]) => `${name}: ${value}\r\n`).join('');
  socket.end(`${method} ${target} HTTP/1.1\r\n${lines}Content-Length: 0\r\nConnection: close\r\n\r\n`);
  let text = '';
  socket.on('data', (chunk: Buffer) => (text += chunk.toString('latin1')));
  await once(socket, 'close');
  const status = Number(/^HTTP\/1\.1 (\d{3})/.exec(text)?.[1] ?? 0);
  return { status, body: text.slice(text.indexOf('\r\n\r\n') + 4) };
}
