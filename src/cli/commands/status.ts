/**
 * `clusterkit status [name] [--json] [--watch]` and `clusterkit list [--json]`.
 */
import { ClusterNotRunningError, ControlSocketError } from '../../errors.js';
import { surveyCluster, surveyClusters } from '../../control/control-client.js';
import { controlDirectory, noClusterLine } from '../../control/runtime-dir.js';
import type { ClusterStatus } from '../../control/control-protocol.js';
import { parseClusterName, parseDuration } from '../arg-values.js';
import { formatList, formatStatus } from '../format-status.js';
import { parseCommand } from '../parse-command.js';
import { kStatusTimeoutMs, reportUnanswered, type UnansweredEntry } from '../report-unanswered.js';
import { surveyJson, unansweredJson } from '../unanswered-json.js';
import { UsageError } from '../usage-error.js';
import { WatchRounds } from '../watch-rounds.js';

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
  // "No cluster is running." only when none is: a cluster that did not answer still runs.
  const render = ({ statuses, unanswered }: Survey): string =>
    values.json
      ? jsonOf(name === undefined ? surveyJson(statuses, unanswered, (status) => status) : namedJson(statuses, unanswered), values.watch === true)
      : statuses.length > 0 || unanswered.length === 0
        ? renderText(statuses, name)
        : '';
  if (!values.watch) {
    const survey = await fetchStatuses(name);
    process.stdout.write(render(survey));
    return reportUnanswered(survey.unanswered);
  }
  return watch(name, intervalMs, render);
}

export async function listCommand(args: string[]): Promise<number | 'help'> {
  const { values, positionals } = parseCommand('list', args, { json: { type: 'boolean' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) return 'help';
  if (positionals.length > 0) throw new UsageError(`Unexpected argument "${positionals[0]}".`, 'list');
  const { statuses, unanswered } = await surveyClusters(undefined, kStatusTimeoutMs);
  // "No cluster is running." only when none is: a cluster that did not answer still runs; in
  // the JSON too, as an entry that says so (H521: `[]` read as "no cluster" to a script).
  if (values.json) process.stdout.write(`${JSON.stringify(surveyJson(statuses, unanswered, ({ workers, ...summary }) => ({ ...summary, workers: workers.length })), null, 2)}\n`);
  else if (statuses.length > 0) process.stdout.write(formatList(statuses));
  else if (unanswered.length === 0) process.stdout.write(noClusterLine());
  return reportUnanswered(unanswered);
}

/** What one round of `status` learned: the statuses, and the clusters that run but did not answer. */
interface Survey {
  readonly statuses: ClusterStatus[];
  readonly unanswered: readonly UnansweredEntry[];
}

/**
 * Every cluster, or the one named; those that run but did not answer are named apart, as `list`
 * names them (a named one too: a watch of it keeps watching, F5).
 */
async function fetchStatuses(name: string | undefined): Promise<Survey> {
  return name === undefined ? surveyClusters(undefined, kStatusTimeoutMs) : surveyCluster(name, kStatusTimeoutMs);
}

/**
 * The one cluster of `status <name> --json`: its status, or, when it gave none, the entry that
 * says so (H521; stderr names it too). Before, nothing was printed, and `jq` read no value.
 */
function namedJson(statuses: readonly ClusterStatus[], unanswered: readonly UnansweredEntry[]): unknown {
  const [entry] = unanswered;
  return statuses[0] ?? (entry === undefined ? undefined : unansweredJson(entry));
}

/** `value` as JSON on its own line(s): one line per frame for a watch; nothing for no value. */
function jsonOf(value: unknown, isWatch: boolean): string {
  return value === undefined ? '' : `${JSON.stringify(value, null, isWatch ? 0 : 2)}\n`;
}

function renderText(statuses: ClusterStatus[], name: string | undefined): string {
  if (statuses.length === 0) return name === undefined ? noClusterLine() : '';
  return statuses.map(formatStatus).join('\n');
}

/**
 * Redraws until Ctrl-C; ends (0) when the cluster it watches has stopped. Each round also names
 * the clusters that run but did not answer, as `list` does (H80): before, a blocked primary
 * simply vanished from the watch, and a named one ended it with exit 1 (F5).
 */
async function watch(name: string | undefined, intervalMs: number, render: (survey: Survey) => string): Promise<number> {
  const isTty = process.stdout.isTTY === true;
  let isFirst = true;
  let isStopped = false;
  let wake: () => void = () => {};
  // Every cluster: rounds that never wait on a silent one (H89). One named: it is the only one.
  const rounds = name === undefined ? new WatchRounds(controlDirectory(), kStatusTimeoutMs) : undefined;
  const stop = () => {
    isStopped = true;
    rounds?.close();
    wake();
  };
  process.once('SIGINT', stop);
  // A reader that went away (`status --watch | head`): the watch ends quietly, as `logs -f` does.
  // Before, the write's EPIPE was an uncaught error with its stack (newcomer t35 L1).
  for (const to of [process.stdout, process.stderr]) to.on('error', stop);
  while (!isStopped) {
    let survey: Survey | undefined;
    try {
      survey = rounds === undefined ? await fetchStatuses(name) : await rounds.round();
    } catch (error) {
      if (isFirst) throw error;
      // The cluster went away while we watched: say so and end, rather than fail.
      if (error instanceof ClusterNotRunningError) {
        process.stdout.write(`cluster ${name} is no longer running\n`);
        return 0;
      }
      // The control directory or the socket changed under the watch (its mode, its owner): a
      // cluster that did not answer is named by the round itself, never here.
      if (!(error instanceof ControlSocketError)) throw error;
      process.stderr.write(`${error.message}\n`);
    }
    isFirst = false;
    // Ctrl-C during the round ended its asks: a frame now would name the clusters it cut short
    // as "did not ask", after the user asked to quit.
    if (isStopped) break;
    if (survey) {
      const stamp = `${new Date().toLocaleTimeString()}  (every ${intervalMs} ms, Ctrl-C to quit)\n`;
      process.stdout.write(isTty ? `${kClearScreen}${stamp}${render(survey)}` : render(survey));
      // After the frame, so a terminal's redraw does not wipe it before it is read.
      // Folded: hundreds of silent sockets make a few lines per round, not hundreds (H89).
      reportUnanswered(survey.unanswered, true);
    }
    if (isStopped) break;
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
