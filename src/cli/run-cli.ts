/**
 * The `clusterkit` command: dispatch to a command, and map failures to exit codes: 2 for bad
 * usage (with the command's usage line), 1 for a command that failed, 0 otherwise.
 */
import { ClusterNotRunningError, InvalidOptionError, RemoteError } from '../errors.js';
import { listCommand, statusCommand } from './commands/status.js';
import { reloadCommand, scaleCommand, stopCommand } from './commands/control.js';
import { logsCommand } from './commands/logs.js';
import { runCommand } from './commands/run.js';
import { runApps } from './commands/run-apps.js';
import { takeLauncherLink } from './launcher-link.js';
import { planRun } from './run-plan.js';
import { dashboardCommand } from './commands/dashboard.js';
import { helpText, isCommandName, kCommandNames, usageLine, type CommandName } from './help.js';
import { closest } from './suggest.js';
import { UsageError } from './usage-error.js';
import { toReadableError } from '../readable-error.js';

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
    const plan = await planRun(args, process.cwd());
    if (plan.kind === 'help') return 'help';
    if (plan.kind === 'apps') return runApps(plan, context.mainScript ?? process.argv[1]!);
    return runCommand(plan.settings, context.workerMain);
  },
  status: statusCommand,
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
    if (!isCommandName(first)) throw new UsageError(first.startsWith('-') ? `Unknown option ${first}.` : `Unknown command "${first}".${suggest(first)}`);
    const outcome = await kCommands[first](rest, context);
    if (outcome === 'help') return printHelp(first);
    return outcome;
  } catch (error) {
    return reportFailure(error, isCommandName(first ?? '') ? (first as CommandName) : undefined);
  }
}

function printHelp(command: string | undefined): number {
  if (command !== undefined && !isCommandName(command)) return reportFailure(new UsageError(`Unknown command "${command}".${suggest(command)}`), undefined);
  process.stdout.write(helpText(command));
  return 0;
}

function reportFailure(error: unknown, command: CommandName | undefined): number {
  if (error instanceof UsageError || error instanceof InvalidOptionError) {
    const which = error instanceof UsageError ? (error.command as CommandName | undefined) ?? command : command;
    const help = which ? `clusterkit ${which} --help` : 'clusterkit --help';
    process.stderr.write(`clusterkit: ${error.message}\n${usageLine(which)}\nRun "${help}" for the options and examples.\n`);
    return 2;
  }
  if (error instanceof ClusterNotRunningError) {
    process.stderr.write(`clusterkit: ${error.message}\n`);
    return 2;
  }
  if (error instanceof RemoteError) {
    process.stderr.write(`clusterkit: ${command ?? error.messageType} failed: ${error.remoteMessage}\n`);
    return 1;
  }
  process.stderr.write(`clusterkit: ${toReadableError(error).message}\n`);
  return 1;
}

/** ` Did you mean "status"?` for a near miss. */
function suggest(typed: string): string {
  const near = closest(typed, kCommandNames);
  return near ? ` Did you mean "${near}"?` : ` Commands: ${kCommandNames.join(', ')}.`;
}
