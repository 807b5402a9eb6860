/**
 * `clusterkit status [name] [--json] [--watch]` and `clusterkit list [--json]`.
 */
import { ClusterNotRunningError, ControlSocketError } from '../../errors.js';
import { controlRequest, listClusters } from '../../control/control-client.js';
import type { ClusterStatus } from '../../control/control-protocol.js';
import { parseClusterName, parseDuration } from '../arg-values.js';
import { formatList, formatStatus } from '../format-status.js';
import { parseCommand } from '../parse-command.js';
import { UsageError } from '../usage-error.js';

const kStatusTimeoutMs = 5_000;
const kClearScreen = '\x1b[2J\x1b[H';

export async function statusCommand(args: string[]): Promise<number | 'help'> {
  const { values, positionals } = parseCommand('status', args, {
    json: { type: 'boolean' },
    watch: { type: 'boolean' },
    interval: { type: 'string' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return 'help';
  if (positionals.length > 1) throw new UsageError(`Unexpected argument "${positionals[1]}".`, 'status');
  if (values.interval !== undefined && !values.watch) throw new UsageError('--interval only applies with --watch.', 'status');
  const intervalMs = values.interval === undefined ? 1_000 : parseDuration(values.interval, '--interval', 'status');
  const name = positionals[0] === undefined ? undefined : parseClusterName(positionals[0], 'status');
  const render = (statuses: ClusterStatus[]): string =>
    values.json ? `${JSON.stringify(name === undefined ? statuses : statuses[0], null, values.watch ? 0 : 2)}\n` : renderText(statuses, name);
  if (!values.watch) {
    process.stdout.write(render(await fetchStatuses(name)));
    return 0;
  }
  return watch(name, intervalMs, render);
}

export async function listCommand(args: string[]): Promise<number | 'help'> {
  const { values, positionals } = parseCommand('list', args, { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) return 'help';
  if (positionals.length > 0) throw new UsageError(`Unexpected argument "${positionals[0]}".`, 'list');
  const statuses = await listClusters(undefined, kStatusTimeoutMs);
  process.stdout.write(values.json ? `${JSON.stringify(statuses.map(({ workers: _workers, ...summary }) => ({ ...summary, workers: _workers.length })), null, 2)}\n` : formatList(statuses));
  return 0;
}

async function fetchStatuses(name: string | undefined): Promise<ClusterStatus[]> {
  if (name === undefined) return listClusters(undefined, kStatusTimeoutMs);
  return [(await controlRequest(name, 'status', { timeoutMs: kStatusTimeoutMs })) as ClusterStatus];
}

function renderText(statuses: ClusterStatus[], name: string | undefined): string {
  if (statuses.length === 0) return name === undefined ? 'No cluster is running.\n' : '';
  return statuses.map(formatStatus).join('\n');
}

/** Redraws until Ctrl-C; ends (0) when the cluster it watches has stopped. */
async function watch(name: string | undefined, intervalMs: number, render: (statuses: ClusterStatus[]) => string): Promise<number> {
  const isTty = process.stdout.isTTY === true;
  let isFirst = true;
  let isStopped = false;
  let wake: () => void = () => {};
  process.once('SIGINT', () => {
    isStopped = true;
    wake();
  });
  while (!isStopped) {
    let statuses: ClusterStatus[] | undefined;
    try {
      statuses = await fetchStatuses(name);
    } catch (error) {
      if (isFirst) throw error;
      // The cluster went away while we watched: say so and end, rather than fail.
      if (error instanceof ClusterNotRunningError) {
        process.stdout.write(`cluster ${name} is no longer running\n`);
        return 0;
      }
      // A primary that is exiting drops the connection, a blocked one does not answer: a
      // monitor keeps watching, and the next round tells which.
      if (!(error instanceof ControlSocketError)) throw error;
      process.stderr.write(`${error.message}\n`);
    }
    isFirst = false;
    if (statuses) {
      const stamp = `${new Date().toLocaleTimeString()}  (every ${intervalMs} ms, Ctrl-C to quit)\n`;
      process.stdout.write(isTty ? `${kClearScreen}${stamp}${render(statuses)}` : render(statuses));
    }
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, intervalMs);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }
  return 0;
}
