/**
 * The `clusterkit` command: dispatch to a command, and map failures to exit codes: 2 for bad
 * usage (with the command's usage line; a log file that cannot be opened too), 4 for a cluster name that is not running, 1 for a
 * command that failed, 0 otherwise.
 */
import { ClusterNotRunningError, InvalidOptionError, LogFileError, RemoteError } from '../errors.js';
import { listCommand, statusCommand } from './commands/status.js';
import { showCommand } from './commands/show.js';
import { reloadCommand, scaleCommand, stopCommand } from './commands/control.js';
import { logsCommand } from './commands/logs.js';
import { runCommand } from './commands/run.js';
import { runApps } from './commands/run-apps.js';
import { takeLauncherLink } from './launcher-link.js';
import { recordEarlyOutput, stopEarlyOutput } from './logs/log-files.js';
import { planRun } from './run-plan.js';
import { dashboardCommand } from './commands/dashboard.js';
import { commandOf, helpText, kCommandNames, usageLine, type CommandName } from './help.js';
import { commandHint, notRunningHint, optionHint } from './pm2-hints.js';
import { orphanLinesHint } from './orphan-lines-report.js';
import { kExitNotRunning } from './exit-not-running.js';
import { inFlagNames, remoteMessage } from './flag-names.js';
import { UsageError } from './usage-error.js';
import { toReadableError } from '../readable-error.js';
import { escapeControlChars } from '../control/control-chars.js';
import { controlDirectory, takeRuntimeDirWarning } from '../control/runtime-dir.js';

export interface CliContext {
  /** The worker bootstrap script `run` forks. */
  readonly workerMain: string;
  readonly version: string;
  /** This CLI's own script, which `run` starts again for each app of a config file. */
  readonly mainScript?: string;
}

type Command = (args: string[], context: CliContext) => Promise<number | 'help'>;

const kCommands: Record<CommandName, Command> = {
  run: async (args, context) => {
    // An app started by a launcher listens to it before anything else (see launcher-link.ts).
    takeLauncherLink();
    // The config's warnings, said before the log files are known, go to them too once they open (H314).
    recordEarlyOutput();
    const plan = await planRun(args, process.cwd());
    if (plan.kind !== 'one') stopEarlyOutput();
    if (plan.kind === 'help') return 'help';
    if (plan.kind === 'apps') return runApps(plan, context.mainScript ?? process.argv[1]!);
    return runCommand(plan.settings, context.workerMain);
  },
  status: statusCommand,
  show: showCommand('show'),
  describe: showCommand('describe'),
  list: listCommand,
  reload: reloadCommand,
  stop: stopCommand,
  scale: scaleCommand,
  logs: logsCommand,
  dashboard: dashboardCommand,
};

/** Runs the command line `args` (without node and the script); resolves with the exit code. */
export async function runCli(args: string[], context: CliContext): Promise<number> {
  const [first, ...rest] = args;
  try {
    if (first === undefined) throw new UsageError('Missing the command.');
    if (first === '-h' || first === '--help' || first === 'help') return printHelp(rest[0]);
    if (first === '-v' || first === '--version') {
      process.stdout.write(`${context.version}\n`);
      return 0;
    }
    const command = commandOf(first);
    if (command === undefined) throw new UsageError(first.startsWith('-') ? `Unknown option ${first}.${optionHint(first, '', kOwnOptions)}` : `Unknown command "${first}".${suggest(first)}`);
    // `run` says it beside its control path; the others, which look there, say it first (H384).
    const runtimeWarning = command === 'run' ? undefined : takeRuntimeDirWarning();
    if (runtimeWarning !== undefined) writeError(`clusterkit: WARN ${runtimeWarning}`);
    const outcome = await kCommands[command](rest, context);
    if (outcome === 'help') return printHelp(command);
    return outcome;
  } catch (error) {
    return reportFailure(error, commandOf(first ?? ''));
  }
}

function printHelp(typed: string | undefined): number {
  const command = typed === undefined ? undefined : commandOf(typed);
  if (typed !== undefined && command === undefined) return reportFailure(new UsageError(`Unknown command "${typed}".${suggest(typed)}`), undefined);
  process.stdout.write(helpText(command));
  return 0;
}

/**
 * Every failure line goes through here: it may quote what was typed (`Unknown command "..."`),
 * a config's value or a cluster's answer, so control characters are escaped (an ESC sequence
 * could retitle or clear the terminal, U+202E reorder the line) and a very long line is cut.
 */
function writeError(text: string): void {
  const safe = escapeControlChars(text);
  process.stderr.write(`${safe.length > kMaxErrorChars ? `${safe.slice(0, kMaxErrorChars)} [...]` : safe}\n`);
}

const kMaxErrorChars = 4_096;
/**
 * A name that is not running is neither bad usage (2: the command was typed right) nor a
 * failure of the cluster (1): a deploy script can take `stop` of a cluster already stopped
 * for what it is (`clusterkit stop api || [ $? -eq 4 ]`). PM2 exits 1 for it (H224).
 */
/** Lines of details printed under a usage error (a config file's problems). */
const kMaxDetails = 50;

function reportFailure(error: unknown, command: CommandName | undefined): number {
  if (error instanceof UsageError || error instanceof InvalidOptionError) {
    const which = error instanceof UsageError ? (error.command as CommandName | undefined) ?? command : command;
    const help = which ? `clusterkit ${which} --help` : 'clusterkit --help';
    const message = error instanceof InvalidOptionError ? inFlagNames(error.message) : error.headline;
    writeError(`clusterkit: ${message}`);
    // Each detail on its own line, escaped on its own: a newline inside one cannot forge another.
    if (error instanceof UsageError) {
      for (const detail of error.details.slice(0, kMaxDetails)) writeError(`  - ${detail}`);
      if (error.details.length > kMaxDetails) writeError(`  - and ${error.details.length - kMaxDetails} more`);
    }
    process.stderr.write(`${usageLine(which)}\nRun "${help}" for the options and examples.\n`);
    return 2;
  }
  // A log file that cannot be written is refused before anything started: as bad usage, exit 2 (H314).
  if (error instanceof LogFileError) {
    writeError(`clusterkit: ${error.message}`);
    return 2;
  }
  if (error instanceof ClusterNotRunningError) {
    // `all` and a config file's path are PM2 habits (H367): what to type instead.
    // What its orphaned workers left, when a kill left them (H417): `logs` shows it.
    writeError(`clusterkit: ${error.message}${notRunningHint(error.clusterName, command)}${orphanLinesHint(error.clusterName, controlDirectory(), error.deadPrimary)}`);
    return kExitNotRunning;
  }
  if (error instanceof RemoteError) {
    // A stop that cut a reload short is no failure of the new code (hostile t85 #3): said as what it is.
    const outcome = error.remoteCode === 'ERR_RELOAD_INTERRUPTED' ? 'cut short by the stop' : 'failed';
    writeError(`clusterkit: ${command ?? error.messageType} ${outcome}: ${remoteMessage(error)}`);
    return 1;
  }
  writeError(`clusterkit: ${toReadableError(error).message}`);
  return 1;
}

/** The options `clusterkit` takes before a command: `--verison` gets "Did you mean --version?". */
const kOwnOptions = ['--help', '--version'];

/** What PM2 calls it, or ` Did you mean "status"?` for a near miss (pm2-hints.ts). */
function suggest(typed: string): string {
  return commandHint(typed, kCommandNames);
}
