/**
 * Worker output in the CLI, like `pm2 logs`: workers are forked with piped stdout/stderr and
 * every line they write comes out on ours prefixed with `[name:id]`, or, with
 * `--log-format json`, as one JSON object per line.
 */
import { StringDecoder } from 'node:string_decoder';
import type { Readable, Writable } from 'node:stream';

export type LogFormat = 'line' | 'json';

export interface OutputSource {
  readonly id: number;
  readonly stdout: Readable | null;
  readonly stderr: Readable | null;
}

export function pipeWorkerOutput(worker: OutputSource, name: string, format: LogFormat): void {
  const render =
    format === 'json'
      ? (line: string, stream: string) => `${JSON.stringify({ time: Date.now(), name, workerId: worker.id, stream, msg: line })}\n`
      : (line: string) => `[${name}:${worker.id}] ${line}\n`;
  if (worker.stdout) forwardLines(worker.stdout, process.stdout, (line) => render(line, 'stdout'));
  if (worker.stderr) forwardLines(worker.stderr, process.stderr, (line) => render(line, 'stderr'));
}

/** Writes each complete line of `from` to `to` through `render`; a last unterminated line at the end. */
export function forwardLines(from: Readable, to: Writable, render: (line: string) => string): void {
  const decoder = new StringDecoder('utf8');
  let partial = '';
  from.on('data', (chunk: Buffer) => {
    const text = partial + decoder.write(chunk);
    const lines = text.split('\n');
    partial = lines.pop()!;
    if (lines.length > 0) to.write(lines.map((line) => render(line.endsWith('\r') ? line.slice(0, -1) : line)).join(''));
  });
  from.on('end', () => {
    const rest = partial + decoder.end();
    if (rest) to.write(render(rest));
  });
}
