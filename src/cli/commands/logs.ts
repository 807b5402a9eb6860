/**
 * `clusterkit logs <name> [--lines N] [--follow] [--worker ID] [--json]`: the running cluster's
 * output from another terminal, like `pm2 logs` / `docker logs`: the last N lines from the
 * primary's buffer, then (with --follow) new lines as they come. Worker stdout goes to our
 * stdout, worker stderr and the primary's own lines to our stderr, each prefixed as `run`
 * prints them; with --json, one object per line on stdout.
 */
import { terminalSafeJson } from '../../control/control-chars.js';
import { openLogStream } from '../../control/log-client.js';
import type { LogEntry } from '../../control/log-protocol.js';
import { parseClusterName, parseCount } from '../arg-values.js';
import { parseCommand } from '../parse-command.js';
import { kLogBufferLines } from '../logs/log-buffer.js';
import { sanitizeLine, supportsColor } from '../logs/sanitize-line.js';
import { kPartialMark } from '../output-prefix.js';
import { UsageError } from '../usage-error.js';

export async function logsCommand(args: string[]): Promise<number | 'help'> {
  const { values, positionals } = parseCommand('logs', args, {
    lines: { type: 'string', short: 'n' },
    follow: { type: 'boolean', short: 'f' },
    worker: { type: 'string' },
    json: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return 'help';
  if (positionals.length === 0) throw new UsageError('Missing the cluster name.', 'logs');
  if (positionals.length > 1) throw new UsageError(`Unexpected argument "${positionals[1]}".`, 'logs');
  const name = parseClusterName(positionals[0]!, 'logs');
  const lines = values.lines === undefined ? 15 : Math.min(parseCount(values.lines, '--lines', 'logs', 0), 1_000_000);
  const workerId = values.worker === undefined ? undefined : parseCount(values.worker, '--worker', 'logs');
  const follow = values.follow ?? false;
  const print = printer(name, values.json ?? false);
  // A closed pipe (`clusterkit logs api -f | head`) ends the command quietly.
  let stream: ReturnType<typeof openLogStream> | undefined;
  let printed = 0;
  for (const output of [process.stdout, process.stderr]) output.on('error', () => stream?.close());
  stream = openLogStream(name, { lines, follow, ...(workerId === undefined ? {} : { workerId }) }, {
    onEntry: (entry) => {
      printed++;
      // Our own output is slow: stop reading, and let the primary drop lines for us.
      if (!print.entry(entry)) {
        stream!.pause();
        print.whenDrained(() => stream!.resume());
      }
    },
    onDropped: (count) => print.dropped(count),
  });
  let isInterrupted = false;
  const onInterrupt = () => {
    isInterrupted = true;
    stream!.close();
  };
  process.once('SIGINT', onInterrupt);
  try {
    const outcome = await stream.done;
    if (outcome === 'closed' && follow && !isInterrupted) process.stderr.write(`clusterkit: cluster ${name} stopped\n`);
    // A worker that ran but whose lines are gone (or that printed none): say why nothing came.
    if (outcome === 'complete' && printed === 0 && lines > 0 && workerId !== undefined && !values.json) {
      process.stderr.write(`clusterkit: no line of worker ${workerId} is in ${name}'s buffer (it printed none, or they were among the oldest: the buffer keeps the last ${kLogBufferLines} lines of the cluster)\n`);
    }
    return 0;
  } finally {
    process.off('SIGINT', onInterrupt);
  }
}

function printer(name: string, isJson: boolean) {
  const keepColors = { stdout: supportsColor(process.stdout), stderr: supportsColor(process.stderr) };
  const prefix = (entry: LogEntry) => (entry.source === 'worker' ? `[${name}:${entry.workerId}] ` : `[${name}] `);
  return {
    /** Writes one entry; false when the output is backed up. */
    entry(entry: LogEntry): boolean {
      if (isJson) return process.stdout.write(`${terminalSafeJson({ name, ...entry })}\n`);
      const to = entry.source === 'worker' && entry.stream === 'stdout' ? 'stdout' : 'stderr';
      return process[to].write(`${prefix(entry)}${sanitizeLine(entry.msg, keepColors[to])}${entry.partial === true ? kPartialMark : ''}\n`);
    },
    dropped(count: number): void {
      if (isJson) process.stdout.write(`${JSON.stringify({ name, dropped: count })}\n`);
      else process.stderr.write(`clusterkit: ${count} line${count === 1 ? '' : 's'} dropped: this reader fell behind the cluster's output\n`);
    },
    whenDrained(resume: () => void): void {
      const outputs = [process.stdout, process.stderr].filter((output) => output.writableNeedDrain);
      if (outputs.length === 0) return resume();
      let waiting = outputs.length;
      for (const output of outputs) output.once('drain', () => --waiting === 0 && resume());
    },
  };
}
