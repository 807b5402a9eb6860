/**
 * Node options that stop a worker's Node from running the worker's script (H310): `--eval`
 * runs its code in its place, `--check` only parses it, an empty argument or `-` makes Node read
 * a script from stdin, where the worker waits for ever. The worker never starts, and its failed
 * start (a ready timeout, an early exit) reads as a fault of the script, which never ran. Such
 * options are refused where they are given: `clusterkit run --node-arg`, a config file's
 * `nodeArgs` (PM2's `node_args`), the library's `execArgv`. An option Node does not know is not
 * one of them: Node refuses it itself, and H253 (node-option-failure.ts) says so at once.
 *
 * Left accepted, on purpose: `-i`/`--interactive` (Node 20 runs a script it is given and
 * ignores it), `--inspect-brk` and `--inspect-wait` (they wait for a debugger, which is what
 * they are given for), `--snapshot-blob` without `--build-snapshot` (the script runs, from the
 * snapshot), and the options that only change those above (`--watch-preserve-output`,
 * `--test-*`, `--input-type`), which do nothing alone.
 */

/** What an option does to the worker's script, and what to do instead. */
interface Effect {
  readonly does: string;
  readonly instead: string;
}

const kLeaveOut = 'leave it out';
const kPreload = 'to run code before the script, preload a module instead: --import=<module>, or --require=<module> for CommonJS';
const kPrints = (what: string): Effect => ({ does: `prints ${what} and exits without running the worker's script`, instead: kLeaveOut });

/** By the option's long name; `aliases` gives the short ones. */
const kEffects: Readonly<Record<string, Effect>> = {
  '--eval': { does: "runs its code in place of the worker's script", instead: kPreload },
  '--print': { does: "runs its code and prints the result, in place of the worker's script", instead: kPreload },
  '--check': { does: "only checks the script's syntax, and exits without running it", instead: 'check the syntax with node --check <script> before starting' },
  '--test': { does: "runs the script as a test file in a child process of its own, which is not the worker", instead: 'run the tests with node --test, outside clusterkit' },
  '--watch': { does: 'makes the worker a watcher that runs the script in a child process of its own, which is not the worker', instead: 'for restarts when files change, use clusterkit run --watch, which restarts the workers' },
  '--watch-path': { does: 'makes the worker a watcher that runs the script in a child process of its own, which is not the worker', instead: 'for restarts when files change, use clusterkit run --watch, which restarts the workers' },
  '--version': kPrints("Node's version"),
  '--help': kPrints("Node's usage"),
  '--v8-options': kPrints("V8's options"),
  '--completion-bash': kPrints('a bash completion script'),
  '--prof-process': { does: "processes a V8 profiler log in place of running the worker's script", instead: 'profile the workers with --prof, then run node --prof-process on the log it writes' },
  '--build-snapshot': { does: 'runs the script only to build a startup snapshot, then exits', instead: 'build the snapshot with node --build-snapshot outside clusterkit; --snapshot-blob=<file> starts the workers from it' },
  '--experimental-sea-config': { does: "writes a single-executable blob and exits without running the worker's script", instead: kLeaveOut },
  '--run': { does: "runs a package.json script in place of the worker's script (Node 22 and later)", instead: kLeaveOut },
};

const kAliases: Readonly<Record<string, string>> = { '-e': '--eval', '-p': '--print', '-pe': '--print', '-c': '--check', '-v': '--version', '-h': '--help' };

export interface ScriptStoppingNodeArg {
  /** Its index in the list checked. */
  readonly index: number;
  readonly arg: string;
  /** The argument as a message shows it: an option without its value (`--eval=…`), which may be long or a secret. */
  readonly shown: string;
  /** What it makes Node do, as a sentence without its full stop: `Node's --eval runs its code in place of the worker's script`. */
  readonly problem: string;
  /** What to do instead, as a sentence without its full stop. */
  readonly instead: string;
}

/**
 * The first of `args` (Node options, in order) that stops Node from running the worker's
 * script, or undefined. A word that is no option counts when nothing before it can take it as
 * a value (`--require tsx` is fine, `tsx` alone is run as the script): an option before it with
 * no `=` may take it, as Node's own option table decides, which is not known here.
 */
export function scriptStoppingNodeArg(args: readonly string[]): ScriptStoppingNodeArg | undefined {
  for (const [index, arg] of args.entries()) {
    const found = (shown: string, problem: string, instead: string): ScriptStoppingNodeArg => ({ index, arg, shown, problem, instead });
    if (arg === '') {
      return found('""', "Node takes an empty argument as the script's name, and reads a script from stdin in place of the worker's: the worker waits there for ever", "leave it out; an option's empty value is written with \"=\", as in --title=");
    }
    if (arg === '-') return found('-', "Node's \"-\" reads a script from stdin in place of the worker's: the worker waits there for ever", kLeaveOut);
    if (arg === '--') return found('--', "Node's \"--\" ends Node's options, so an option after it is run as the script, in place of the worker's; it does nothing else here", "leave it out; the worker's script comes after the Node options by itself");
    if (!arg.startsWith('-')) {
      if (takesNextWord(args[index - 1])) continue;
      return found(shorten(arg), `"${shorten(arg)}" is no option, nor the value of one, so Node runs it as the script, in place of the worker's`, 'if it is the value of an option, join it to its option, as in --import=tsx');
    }
    const typed = arg.startsWith('--') ? arg.replace(/=.*$/s, '') : arg;
    // Node reads "_" as "-" in an option's name (--watch_path is --watch-path).
    const name = kAliases[typed] ?? typed.replaceAll('_', '-');
    const effect = Object.hasOwn(kEffects, name) ? kEffects[name] : undefined;
    if (effect === undefined) continue;
    const shown = typed === arg ? arg : `${typed}=…`;
    const spelled = name === typed ? name : `${typed} (${name})`;
    return found(shown, `Node's ${spelled} ${effect.does}`, effect.instead);
  }
  return undefined;
}

/** Whether `previous` is an option that may take the next word as its value: `--require` in `--require tsx`. */
function takesNextWord(previous: string | undefined): boolean {
  return previous !== undefined && previous.startsWith('-') && previous !== '-' && previous !== '--' && !previous.includes('=');
}

function shorten(word: string): string {
  return word.length > 60 ? `${word.slice(0, 57)}...` : word;
}
