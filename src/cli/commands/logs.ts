/**
 * `clusterkit logs <name> [--lines N] [--follow] [--worker ID | --slot N] [--err | --out] [--time] [--json]`:
 * the running cluster's output from another terminal, like `pm2 logs` / `docker logs`: the last
 * N lines from the primary's buffer, then (with --follow) new lines as they come. Worker stdout
 * goes to our stdout, worker stderr to our stderr; the primary's own lines to stdout, its
 * warnings and errors to stderr (as `pm2 logs`), each prefixed as `run` prints them, a worker's
 * stderr lines marked `[api:2 err]` (H225); `--err` / `--out` (PM2's) keep one of the two; with
 * --json, one object per line on stdout. `--slot` follows a position in the pool across
 * restarts and reloads (as `pm2 logs <id>` follows a process id PM2 keeps), with a note on
 * stderr each time another worker serves it. `--time` starts each line with the time the
 * primary read it (the buffer keeps it), whatever the cluster prints (H335).
 */
import { existsSync } from 'node:fs';
import { escapeControlChars, terminalSafeJson } from '../../control/control-chars.js';
import { plural } from '../../plural.js';
import type { ClusterDescription } from '../../control/cluster-settings.js';
import { controlRequest } from '../../control/control-client.js';
import { openLogStream } from '../../control/log-client.js';
import { deadLockHolder } from '../../control/name-lock.js';
import { controlDirectory, orphanLinesPath, socketPathFor } from '../../control/runtime-dir.js';
import { describeSlots, matchesFilter, outputOf, type LogEntry, type LogOutput, type SlotNote } from '../../control/log-protocol.js';
import type { ClusterStatus } from '../../control/control-protocol.js';
import { ClusterNotRunningError, InvalidArgumentError, receivedClause, RemoteError } from '../../errors.js';
import { readOrphanLines } from '../../control/orphan-lines.js';
import { servingWorkers } from '../control-outcome.js';
import { parseClusterName, parseCount } from '../arg-values.js';
import { parseCommand } from '../parse-command.js';
import { workerLinePrefix } from '../logs/worker-line-prefix.js';
import { kLogBufferChars, kLogBufferLines } from '../logs/log-buffer.js';
import { sanitizeLine, supportsColor } from '../logs/sanitize-line.js';
import { kPartialMark } from '../output-prefix.js';
import { UsageError } from '../usage-error.js';
import { missingNameError } from '../missing-name.js';
import { compileTimeFormat, kDefaultTimeFormat, linePrefixer, type LinePrefixer } from '../logs/line-time.js';
import { shellWord } from '../../shell-word.js';
import { kExitNotRunning } from '../exit-not-running.js';
import { LogsWait } from '../logs/logs-wait.js';

export async function logsCommand(args: string[]): Promise<number | 'help'> {
  const { values, positionals } = parseCommand('logs', args, {
    lines: { type: 'string', short: 'n' },
    follow: { type: 'boolean', short: 'f' },
    worker: { type: 'string' },
    slot: { type: 'string' },
    json: { type: 'boolean' },
    time: { type: 'boolean' },
    'time-format': { type: 'string' },
    err: { type: 'boolean' },
    out: { type: 'boolean' },
    help: { type: 'boolean', short: 'h' },
  });
  if (values.help) return 'help';
  // The running clusters listed, as a wrong name lists them (H402).
  if (positionals.length === 0) throw await missingNameError('logs');
  if (positionals.length > 1) throw new UsageError(`Unexpected argument "${positionals[1]}".`, 'logs');
  const name = parseClusterName(positionals[0]!, 'logs');
  const lines = values.lines === undefined ? 15 : Math.min(parseCount(values.lines, '--lines', 'logs', 0), 1_000_000);
  if (values.worker !== undefined && values.slot !== undefined) {
    throw new UsageError('--worker and --slot cannot be used together: --worker <id> shows one worker (its id changes at every restart or reload), --slot <n> whichever worker serves slot n.', 'logs');
  }
  if (values.err && values.out) throw new UsageError('--err and --out cannot be used together: leave both out for every line.', 'logs');
  const output: LogOutput | undefined = values.err ? 'stderr' : values.out ? 'stdout' : undefined;
  const workerId = values.worker === undefined ? undefined : parseCount(values.worker, '--worker', 'logs');
  const slot = values.slot === undefined ? undefined : await parseSlot(values.slot, name);
  const follow = values.follow ?? false;
  if (values.json && (values.time || values['time-format'] !== undefined)) {
    throw new UsageError(`${values.time ? '--time' : '--time-format'} applies to lines only: with --json, each object has its "time" (ms since the epoch).`, 'logs');
  }
  // Each line with the time the primary read it (H335), as clusterkit run --time prints it: in
  // the format the cluster stamps its own lines with (PM2's log_date_format), when it does (H721).
  if (values['time-format'] !== undefined) compileTimeFormat(values['time-format'], '--time-format', 'logs');
  const timeFormat = values['time-format'] ?? (values.time ? await timeFormatOf(name) : undefined);
  const print = printer(name, values.json ?? false, linePrefixer(timeFormat));
  // A closed pipe (`clusterkit logs api -f | head`) ends the command quietly, exit 0, as the
  // reader asked for no more: the stream closes because of us, not the cluster. Before, the close
  // read as the cluster's ("cluster api stopped", or "closed the control connection before it
  // answered" when the pipe closed before the answer) while it ran fine (H429).
  let stream: ReturnType<typeof openLogStream> | undefined;
  let printed = 0;
  /** Set by the answer: fewer lines came than asked for, and the buffer had let older ones go. */
  let isOlderGone = false;
  /** The lines the buffer held as it answered (`olderGone`'s `kept`); the line bound from a primary that does not say. */
  let keptLines = kLogBufferLines;
  let isOutputClosed = false;
  for (const to of [process.stdout, process.stderr]) {
    to.on('error', () => {
      isOutputClosed = true;
      stream?.close();
    });
  }
  const filter = { ...(workerId !== undefined ? { workerId } : slot !== undefined ? { slot } : {}), ...(output === undefined ? {} : { output }) };
  // A primary of an older clusterkit refuses "output": asked again without it, and filtered
  // here (its --lines then counts every line, not only those shown).
  let isFilteredHere = false;
  // A primary that has not answered in 5 s (stopped by kill -STOP, blocked) is named once on
  // stderr, and waited for: resumed, its lines print (H509).
  const wait = new LogsWait(name);
  const open = (): ReturnType<typeof openLogStream> => openLogStream(name, { lines, follow, ...(isFilteredHere ? withoutOutput(filter) : filter) }, {
    onEntry: (entry) => {
      if (isFilteredHere && !matchesFilter(entry, { output })) return;
      printed++;
      // Our own output is slow: stop reading, and let the primary drop lines for us.
      if (!print.entry(entry)) {
        stream!.pause();
        print.whenDrained(() => stream!.resume());
      }
    },
    onDropped: (count) => print.dropped(count),
    onSlotChange: (note) => print.slotChange(note, workerId),
    onAnswer: ({ serving, olderGone, kept }) => {
      isOlderGone = olderGone;
      keptLines = kept ?? kLogBufferLines;
      // The backlog is printed: with --follow, no end comes to say what it left out (retest t68b).
      if (follow && isOlderGone && printed > 0) void noteOlderGone();
      // A slot with no worker now (beyond the pool, a scale-up may start it): said, not silent.
      if (follow && slot !== undefined && serving === null && !values.json) {
        process.stderr.write(`clusterkit: slot ${slot} has no worker now; waiting for one (a scale-up starts a slot past the pool; one given up in a crash loop starts again with clusterkit reload ${shellWord(name)})\n`);
      }
    },
    onHeard: () => {
      wait.heard();
      process.off('SIGTERM', onUnansweredSignal);
    },
  });
  /**
   * More asked for than the buffer keeps, and it had let older lines go: said on stderr, or with
   * --json as an object on stdout (`{ name, olderGone: { lines, keptLines, file? } }`).
   */
  async function noteOlderGone(): Promise<void> {
    const count = printed;
    const file = await logFileOf(name, output);
    if (values.json) {
      process.stdout.write(`${terminalSafeJson({ name, olderGone: { lines: count, keptLines, ...(file === undefined ? {} : { file: file.path }) } })}\n`);
      return;
    }
    const of = workerId !== undefined ? ` of worker ${workerId}` : slot !== undefined ? ` of slot ${slot}` : '';
    const then = follow ? ', then new ones as they come' : '';
    const kept = keptText(file);
    // Fewer than the line bound when long lines filled the character bound (retest t69b: "keeps the last 2000 lines" of 209).
    const bound = keptLines < kLogBufferLines ? ` (at most ${kLogBufferLines} lines, and ${kLogBufferChars} characters in all: long lines leave room for fewer)` : '';
    process.stderr.write(`clusterkit: printed the last ${count === 1 ? 'line' : plural(count, 'line')}${of}${then}: ${name} keeps the last ${plural(keptLines, 'line')} in memory${of === '' ? '' : ' (of all its workers)'}${bound}, not the older ones${kept}\n`);
  }
  let isInterrupted = false;
  // Before the primary answered, SIGINT or SIGTERM says so in one line and the command dies of
  // it, as stop and reload do (H444); not "closed the control connection before it answered",
  // which blamed a primary that had not closed anything (H509).
  function onUnansweredSignal(signal: NodeJS.Signals): void {
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onUnansweredSignal);
    wait.interrupted(signal);
    process.kill(process.pid, signal);
  }
  // Once it answered, Ctrl-C ends the reading: exit 0, silent (`logs -f` is ended this way).
  function onInterrupt(): void {
    if (!wait.isHeard) return onUnansweredSignal('SIGINT');
    isInterrupted = true;
    stream!.close();
  }
  process.once('SIGINT', onInterrupt);
  process.on('SIGTERM', onUnansweredSignal);
  stream = open();
  try {
    let outcome: 'complete' | 'closed';
    try {
      outcome = await stream.done;
    } catch (error) {
      if (isOutputClosed) return 0;
      // No cluster of the name runs: what its orphaned workers left, if any (H417).
      // Printed, it still exits as not running: a kill must not read as a running cluster (H438).
      if (error instanceof ClusterNotRunningError && printOrphanLines(name, error, { lines, workerId, output }, print)) return kExitNotRunning;
      if (!(output !== undefined && isOutputRefused(error))) throw error;
      isFilteredHere = true;
      stream = open();
      outcome = await stream.done.catch((retryError: unknown) => {
        if (isOutputClosed) return 'closed' as const;
        throw retryError;
      });
    }
    if (isOutputClosed) return 0;
    if (outcome === 'closed' && follow && !isInterrupted) {
      // A primary killed (kill -9) or crashed leaves its socket and a lock of a dead pid: not a
      // stop, and not exit 0, or a script cannot tell the two apart (retest t31 N2).
      const dead = await deadPrimaryOf(socketPathFor(name, controlDirectory()));
      if (dead !== undefined) {
        process.stderr.write(`clusterkit: cluster ${name}'s primary (pid ${dead.pid}) ended without stopping (killed or crashed)\n`);
        return 1;
      }
      process.stderr.write(`clusterkit: cluster ${name} stopped\n`);
    }
    // A worker that ran but whose lines are gone (or that printed none), or an output with no
    // line (`--err` of a cluster that wrote none, H401): say why nothing came, not a silent exit 0.
    if (outcome === 'complete' && printed === 0 && lines > 0 && (workerId !== undefined || slot !== undefined || output !== undefined) && !values.json) {
      process.stderr.write(`clusterkit: ${describeNoLine(name, { workerId, slot, output })}${await keptInFile(name, output)}\n`);
    }
    // More asked for than the buffer keeps, and it had let older lines go: those asked for may be
    // among them (hostile t67, H668: said nothing; retest t68, H680: nor with --slot, --worker).
    // A primary of before H680 does not say (`olderGone`): then, as before, when it sent a full buffer.
    // The primary says it (`olderGone`) for any count asked (retest t69b: `--err --lines 2` printed 1, silent).
    if (outcome === 'complete' && printed > 0 && (isOlderGone || (lines > kLogBufferLines && printed >= kLogBufferLines))) await noteOlderGone();
    return 0;
  } finally {
    wait.end();
    process.off('SIGINT', onInterrupt);
    process.off('SIGTERM', onUnansweredSignal);
  }
}

/**
 * Prints the lines the orphaned workers of `name`'s last primary left in the control directory
 * (control/orphan-lines.ts, H417), as `run` would have printed them (worker stderr lines, kept
 * by --err), on stdout after a note on stderr that says where they come from (H452); false when there is no such line (the
 * not-running error stands). Printed or all filtered out, `logs` exits as not running (H438). The next `clusterkit run` of the name reports them and removes them.
 */
function printOrphanLines(
  name: string,
  error: ClusterNotRunningError,
  { lines, workerId, output }: { lines: number; workerId: number | undefined; output: LogOutput | undefined },
  print: ReturnType<typeof printer>,
): boolean {
  const path = orphanLinesPath(name, controlDirectory());
  const found = readOrphanLines(path);
  if (found === undefined || found.length === 0) return false;
  const shown = found.filter((line) => output !== 'stdout' && (workerId === undefined || line.workerId === workerId)).slice(lines === 0 ? found.length : -lines);
  const count = `${shown.length === found.length ? 'These' : `${shown.length} of the`} ${found.length} line${found.length === 1 ? '' : 's'}`;
  // Its last primary is blamed only when it left its socket and a lock of a dead pid; else the
  // lines are of an earlier primary's orphans (H437).
  const whose =
    error.deadPrimary === undefined
      ? `cluster ${name} is not running. ${count} come from workers orphaned by an earlier primary of it, which ended without stopping (killed or crashed); they stopped on their own `
      : `cluster ${name} is not running: its last primary (pid ${error.deadPrimary.pid}) ended without stopping (killed or crashed). ${count} come from its workers, orphaned then, which stopped on their own `;
  process.stderr.write(`clusterkit: ${whose}(kept in ${path} until the next "clusterkit run" of the name shows them in its log):\n`);
  for (const line of shown) {
    // On stdout, the note alone on stderr: `clusterkit logs <name> > file` keeps them (H452).
    print.entry({ time: line.time, source: 'worker', ...(line.workerId === undefined ? {} : { workerId: line.workerId }), stream: 'stderr', level: 40, msg: `[clusterkit] WARN ${line.msg}` }, 'stdout');
  }
  return true;
}

function withoutOutput<T extends { output?: LogOutput }>({ output: _output, ...rest }: T): Omit<T, 'output'> {
  return rest;
}

/** An older primary's answer to `"output"`, a field it does not know (control-connection.ts words it). */
function isOutputRefused(error: unknown): boolean {
  return error instanceof RemoteError && error.remoteMessage.startsWith('"logs" does not take "output"');
}

/**
 * A slot number: a non-negative integer. Anything else is refused with the slots the cluster
 * has (asked of it), as a slot past the pool is by the primary: exit 1, the valid range said.
 */
async function parseSlot(value: string, name: string): Promise<number> {
  if (/^\d+$/.test(value) && Number.isSafeInteger(Number(value))) return Number(value);
  const status = (await controlRequest(name, 'status', { timeoutMs: 5_000 })) as Partial<ClusterStatus>;
  const workers = Array.isArray(status.workers) ? status.workers.filter((worker) => Number.isSafeInteger(worker?.slot) && worker.slot >= 0 && typeof worker.state === 'string') : [];
  const slots = [...new Set(servingWorkers(workers).map((worker) => worker.slot))].sort((a, b) => a - b);
  throw new InvalidArgumentError(`--slot needs a slot number, an integer: ${describeSlots(slots, `${name}'s`)} ("clusterkit status ${shellWord(name)}" shows each worker's slot). ${receivedClause(value)}.`);
}

/** `worker 7 (reload)`, or what left the slot without a worker. */
const kReasons: Readonly<Record<SlotNote['reason'], string>> = {
  start: 'started',
  'scale-up': 'scale-up',
  restart: 'restart',
  restored: 'started again after its crash loop',
  reload: 'reload',
  'memory-limit': 'replaced: over the memory limit',
  replace: 'replaced',
  'scale-down': 'scale-down',
  'crash-loop': 'crash loop: it failed too often and is no longer restarted',
  stopped: 'stopped',
};

function printer(name: string, isJson: boolean, stamp: LinePrefixer) {
  const keepColors = { stdout: supportsColor(process.stdout), stderr: supportsColor(process.stderr) };
  let isAwaitingDrain = false;
  const prefix = (entry: LogEntry, to: LogOutput) => {
    if (entry.source !== 'worker') return `[${name}] `;
    return workerLinePrefix(name, entry.workerId, entry.stream, keepColors[to]);
  };
  return {
    /** Writes one entry, on `to` (default: where its output goes, `outputOf`); false when the output is backed up. */
    entry(entry: LogEntry, to: LogOutput = outputOf(entry)): boolean {
      if (isJson) return process.stdout.write(`${terminalSafeJson({ name, ...withOutput(entry) })}\n`);
      return process[to].write(`${stamp === undefined ? '' : stamp(entry.time)}${prefix(entry, to)}${sanitizeLine(entry.msg, keepColors[to])}${entry.partial === true ? kPartialMark : ''}\n`);
    },
    dropped(count: number): void {
      if (isJson) process.stdout.write(`${JSON.stringify({ name, dropped: count })}\n`);
      else process.stderr.write(`clusterkit: ${count} line${count === 1 ? '' : 's'} dropped: this reader fell behind the cluster's output\n`);
    },
    /** A note on stderr (an object on stdout with --json): another worker serves the followed slot (the followed worker's slot). */
    slotChange(note: SlotNote, followedWorker: number | undefined): void {
      if (isJson) return void process.stdout.write(`${JSON.stringify({ name, slotChange: note })}\n`);
      const why = kReasons[note.reason];
      if (followedWorker === undefined) {
        process.stderr.write(note.workerId === undefined ? `clusterkit: slot ${note.slot} has no worker any more (${why})\n` : `clusterkit: slot ${note.slot} is now served by worker ${note.workerId} (${why})\n`);
      } else if (note.workerId === undefined) {
        process.stderr.write(`clusterkit: worker ${followedWorker} will not be replaced: slot ${note.slot} has no worker any more (${why}); no new line of worker ${followedWorker} will come once it exited\n`);
      } else {
        process.stderr.write(`clusterkit: worker ${followedWorker} was replaced by worker ${note.workerId} (${why}); use --slot ${note.slot} to follow the slot\n`);
      }
    },
    whenDrained(resume: () => void): void {
      // One wait at a time: the entries already read when the stream paused each find the output
      // backed up, and a wait each piled up 'drain' listeners (hostile t58: MaxListenersExceededWarning).
      if (isAwaitingDrain) return;
      const outputs = [process.stdout, process.stderr].filter((output) => output.writableNeedDrain);
      if (outputs.length === 0) return resume();
      isAwaitingDrain = true;
      let waiting = outputs.length;
      for (const output of outputs) {
        output.once('drain', () => {
          if (--waiting > 0) return;
          isAwaitingDrain = false;
          resume();
        });
      }
    },
  };
}

/**
 * `entry` with its `output` after its `stream` (H362). `stream` is where the line was written:
 * a worker's own stream; for the primary's lines, its stderr, where `run` writes every line of
 * its own, INFO included (`2>/dev/null` hides them there). `output` is where this command prints
 * the line, what `--out` / `--err` pick, and which of `run`'s files holds it (`--output` /
 * `--error`): a primary's INFO line is `stdout` there. Before, the JSON had `stream` alone, so a
 * primary's INFO line read as error output (`"stream":"stderr"`) though `logs` printed it on
 * stdout and the out file held it.
 */
function withOutput(entry: LogEntry): Record<string, unknown> {
  const { level, msg, partial, ...head } = entry;
  return { ...head, output: outputOf(entry), ...(level === undefined ? {} : { level }), msg, ...(partial === undefined ? {} : { partial }) };
}

/** How long `logs --follow` looks for a killed primary once its stream closed, in ms. */
const kDeathLookMs = 2_000;

/**
 * The primary of the socket at `path`, when it died rather than stopped. A SIGKILLed process
 * closes its sockets before it is a zombie, so right after the close it can still read as alive
 * (under load, the follow printed "stopped" and exited 0: under-load run, H301). A stop removes
 * the socket; a death leaves it with a dead pid: looked at until one of them shows, at most
 * `kDeathLookMs`, then taken for a stop still under way.
 */
async function deadPrimaryOf(path: string): Promise<{ pid: number } | undefined> {
  const deadline = Date.now() + kDeathLookMs;
  for (;;) {
    const dead = deadLockHolder(path);
    if (dead !== undefined || !existsSync(path) || Date.now() > deadline) return dead;
    // A referenced timer, not unrefDelay: the stream is closed and nothing else keeps the CLI alive.
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

/**
 * `; the cluster's error file keeps every such line: /srv/logs/err.log`, when the cluster writes
 * the output asked for to a file (`clusterkit run -e`, `-o`, `-l`): a crash's stack pushed out of
 * the buffer by a chatty stdout is still there (ops t59). '' when it has none, or does not say.
 */
async function keptInFile(name: string, output: LogOutput | undefined): Promise<string> {
  return keptText(await logFileOf(name, output));
}

/** `; the cluster's log file keeps every such line: <path>`, or '' without a file. */
function keptText(file: { path: string; kind: string } | undefined): string {
  return file === undefined ? '' : `; the cluster's ${file.kind} keeps every such line: ${escapeControlChars(file.path)}`;
}

/**
 * The format the cluster stamps its lines with (`run --time-format`, `timeFormat`, PM2's
 * `log_date_format`), as it describes itself; the default for a cluster that stamps none, that
 * does not say (an older primary, the library's), or that cannot be asked now (its stream's
 * request then says why). Newcomer t76: `logs --time` printed the default for an app whose file
 * set `log_date_format`, unlike the lines of its log files.
 */
async function timeFormatOf(name: string): Promise<string> {
  const answer = (await controlRequest(name, 'describe', { timeoutMs: 2_000 }).catch(() => undefined)) as Partial<ClusterDescription> | undefined;
  const format = answer?.settings?.timeFormat;
  if (typeof format !== 'string') return kDefaultTimeFormat;
  try {
    compileTimeFormat(format, 'timeFormat', 'logs');
    return format;
  } catch {
    // Checked at the cluster's start: only a primary of another clusterkit could send one this one does not take.
    return kDefaultTimeFormat;
  }
}

/** The file the cluster writes `output`'s lines to (all lines without `output`), as it describes itself; undefined for none. */
async function logFileOf(name: string, output: LogOutput | undefined): Promise<{ path: string; kind: string } | undefined> {
  const answer = (await controlRequest(name, 'describe', { timeoutMs: 2_000 }).catch(() => undefined)) as Partial<ClusterDescription> | undefined;
  const files = answer?.settings?.logFiles;
  const file = output === 'stderr' ? (files?.errorFile ?? files?.logFile) : output === 'stdout' ? (files?.outFile ?? files?.logFile) : files?.logFile;
  if (typeof file !== 'string' || file === '') return undefined;
  return { path: file, kind: file === files?.logFile ? 'log file' : output === 'stderr' ? 'error file' : 'output file' };
}

/**
 * Why `logs` printed nothing (H401): `no stderr line is in api's buffer (no worker wrote to
 * stderr and the primary logged no warning or error, or ...)`.
 */
function describeNoLine(name: string, { workerId, slot, output }: { readonly workerId?: number | undefined; readonly slot?: number | undefined; readonly output?: LogOutput | undefined }): string {
  const oldest = `they were among the oldest: the buffer keeps the last ${kLogBufferLines} lines of the cluster`;
  const kind = output === undefined ? 'line' : `${output} line`;
  if (workerId !== undefined || slot !== undefined) {
    const whose = workerId !== undefined ? `worker ${workerId}` : `slot ${slot}`;
    return `no ${kind} of ${whose} is in ${name}'s buffer (it printed none${output === undefined ? '' : ` to ${output}`}, or ${oldest})`;
  }
  const none = output === 'stderr' ? 'no worker wrote to stderr and the primary logged no warning or error' : 'no worker wrote to stdout and the primary logged no info line';
  return `no ${kind} is in ${name}'s buffer (${none}, or ${oldest}); leave out --${output === 'stderr' ? 'err' : 'out'} for every line`;
}
