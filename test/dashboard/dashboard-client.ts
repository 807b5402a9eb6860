/**
 * Talking to a dashboard server from a test: plain HTTP requests with any headers (browsers
 * cannot forge Host or Origin, an attacker's script can try), and a Server-Sent Events reader.
 */
import http from 'node:http';

export interface Reply {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request to 127.0.0.1:`port`; `headers` may override Host. */
export function request(port: number, path: string, options: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const outgoing = http.request({ host: '127.0.0.1', port, path, method: options.method ?? 'GET', headers: options.headers, agent: false }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body }));
    });
    outgoing.on('error', reject);
    outgoing.end(options.body);
  });
}

export interface ServerSentEvent {
  event: string;
  data: any;
}

/** Reads the event stream at `/api/stream`; `next(name)` waits for the next event of that name. */
export function openStream(port: number, headers: Record<string, string> = {}): Promise<{ next(name: string, ms?: number): Promise<any>; close(): void; closed: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const received: ServerSentEvent[] = [];
    const waiters = new Set<() => void>();
    const outgoing = http.get({ host: '127.0.0.1', port, path: '/api/stream', headers, agent: false }, (response) => {
      if (response.statusCode !== 200) {
        response.resume();
        reject(new Error(`the stream answered ${response.statusCode}`));
        return;
      }
      let buffered = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => {
        buffered += chunk;
        let end = buffered.indexOf('\n\n');
        while (end !== -1) {
          const block = buffered.slice(0, end);
          buffered = buffered.slice(end + 2);
          const event = /^event: (.*)$/m.exec(block)?.[1];
          const data = /^data: (.*)$/m.exec(block)?.[1];
          if (event !== undefined && data !== undefined) received.push({ event, data: JSON.parse(data) });
          end = buffered.indexOf('\n\n');
        }
        for (const waiter of waiters) waiter();
      });
      response.on('error', () => {});
      const closed = new Promise<void>((resolveClosed) => response.once('close', () => resolveClosed()));
      resolve({
        closed,
        next(name, ms = 5_000) {
          return new Promise((resolveEvent, rejectEvent) => {
            const check = () => {
              const index = received.findIndex((event) => event.event === name);
              if (index === -1) return;
              const [event] = received.splice(0, index + 1).slice(-1);
              cleanup();
              resolveEvent(event!.data);
            };
            const timer = setTimeout(() => {
              cleanup();
              rejectEvent(new Error(`no "${name}" event within ${ms} ms (got ${received.map((event) => event.event).join(', ') || 'nothing'})`));
            }, ms);
            const cleanup = () => {
              clearTimeout(timer);
              waiters.delete(check);
            };
            waiters.add(check);
            check();
          });
        },
        close: () => outgoing.destroy(),
      });
    });
    outgoing.on('error', reject);
  });
}
