/**
 * Node options that stop a worker's Node from running the worker's script (H310): `--eval`
 * runs its code in its place, `--check` only parses it, an empty argument or `-` makes Node read
 * a script from stdin, where the worker waits for ever. The worker never starts, and its failed
 * start (a ready timeout, an early exit) reads as a fault of the script, which never ran. Such
 * options are refused where they are given: `clusterkit run --node-arg`, a config file's
 * `nodeArgs` (PM2's `node_args`), the library's `execArgv`. An option Node does not know is not
 * one of them: Node refuses it itself, and H253 (node-option-failure.ts) says so at once.
 *
 * Values given as the next argument (H318): Node takes the argument after `--require`,
 * `--import`, `-r`, `-C`, `--title`... (kTakesValue) as its value, and after any other option
 * it takes none: `--inspect 9229` runs `9229` as the script (`--inspect=9229` is the inspector's
 * port), and so does `--max-old-space-size 256` (V8's options take their value after `=` only).
 * So a word is a value only after an option of kTakesValue written without `=`; any other word
 * is refused, naming the option before it. An option of kTakesValue with nothing after it takes
 * the worker's own script as its value (`-r` last preloads clusterkit's worker-main.js and runs
 * no script), and one followed by an option makes Node refuse to start (`--require requires an
 * argument`): both are refused too.
 *
 * Left accepted, on purpose: `-i`/`--interactive` (Node 20 runs a script it is given and
 * ignores it), `--inspect-brk` and `--inspect-wait` (they wait for a debugger, which is what
 * they are given for), `--snapshot-blob` without `--build-snapshot` (the script runs, from the
 * snapshot), and the options that only change those above (`--watch-preserve-output`,
 * `--test-*`), which do nothing alone. `--input-type` is refused: with a script it makes Node's
 * ES module loader throw ERR_INPUT_TYPE_NOT_ALLOWED, and the worker's entry is loaded by it
 * (retest t59: every start failed three times, "check its output").
 */

/** What an option does to the worker's script, and what to do instead. */
interface Effect {
  readonly does: string;
  readonly instead: string;
}

const kLeaveOut = 'leave it out';
const kPreload = 'to run code before the script, preload a module instead: --import=<module>, or --require=<module> for CommonJS';
const kPrints = (what: string): Effect => ({ does: `prints ${what} and exits without running the worker's script`, instead: kLeaveOut });

/** `--input-type`: for code given with --eval, --print or stdin, which the worker refuses on their own. */
const kInputType: Effect = { does: "makes Node refuse to load the worker's script (ERR_INPUT_TYPE_NOT_ALLOWED: it applies only to code given with --eval, --print or stdin)", instead: 'leave it out; for ES modules, name the script .mjs or set "type": "module" in its package.json' };

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
  // Node 20 builds a snapshot with it alone, as --build-snapshot does, running the builder its file names.
  '--build-snapshot-config': { does: "builds a startup snapshot with the builder its file names, then exits without running the worker's script", instead: 'build the snapshot with node --build-snapshot outside clusterkit; --snapshot-blob=<file> starts the workers from it' },
  '--experimental-sea-config': { does: "writes a single-executable blob and exits without running the worker's script", instead: kLeaveOut },
  '--run': { does: "runs a package.json script in place of the worker's script (Node 22 and later)", instead: kLeaveOut },
};

const kAliases: Readonly<Record<string, string>> = { '-e': '--eval', '-p': '--print', '-pe': '--print', '-c': '--check', '-v': '--version', '-h': '--help', '-r': '--require', '-C': '--conditions' };

/**
 * Node's options that take a value, which Node reads from the next argument when the option has
 * no `=` (`--require ./setup.cjs`, `-r ./setup.cjs`), by long name: Node 20's (each refused by
 * `node <option>` alone with "requires an argument"), and those Node 22 to 24 added. The ones
 * kEffects refuses anyway (`--eval`, `--watch-path`, `--run`...) need not be here. Any other
 * option takes no separate value: `--inspect=9229`, not `--inspect 9229`; V8's options
 * (`--max-old-space-size=256`, `--stack-size=900`) take theirs after `=` only.
 */
const kTakesValue: ReadonlySet<string> = new Set([
  '--allow-fs-read', '--allow-fs-write', '--conditions', '--cpu-prof-dir', '--cpu-prof-interval', '--cpu-prof-name',
  '--debug-port', '--diagnostic-dir', '--disable-proto', '--disable-warning', '--dns-result-order', '--env-file',
  '--env-file-if-exists', '--experimental-config-file', '--experimental-default-type', '--experimental-loader',
  '--experimental-policy', '--experimental-test-isolation', '--heap-prof-dir', '--heap-prof-interval', '--heap-prof-name',
  '--heapsnapshot-near-heap-limit', '--heapsnapshot-signal', '--icu-data-dir', '--import', '--input-type', '--inspect-port',
  '--inspect-publish-uid', '--loader', '--localstorage-file', '--max-http-header-size', '--max-old-space-size-percentage',
  '--network-family-autoselection-attempt-timeout', '--openssl-config', '--policy-integrity', '--redirect-warnings',
  '--report-dir', '--report-directory', '--report-filename', '--report-signal', '--require', '--secure-heap',
  '--secure-heap-min', '--security-revert', '--security-reverts', '--snapshot-blob', '--test-concurrency',
  '--test-coverage-branches', '--test-coverage-exclude', '--test-coverage-functions', '--test-coverage-include',
  '--test-coverage-lines', '--test-global-setup', '--test-isolation', '--test-name-pattern', '--test-reporter',
  '--test-reporter-destination', '--test-rerun-failures', '--test-shard', '--test-skip-pattern', '--test-timeout', '--title',
  '--tls-cipher-list', '--tls-keylog', '--trace-event-categories', '--trace-event-file-pattern', '--trace-require-module',
  '--unhandled-rejections', '--use-largepages', '--v8-pool-size', '--watch-kill-signal',
]);

/** What a message writes as an option's value: `--require=<module>`. */
const kValueWords: Readonly<Record<string, string>> = {
  '--require': '<module>', '--import': '<module>', '--loader': '<module>', '--experimental-loader': '<module>',
  '--conditions': '<condition>', '--env-file': '<file>', '--env-file-if-exists': '<file>', '--title': '<title>', '--inspect-port': '<port>',
};

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
 * script, or undefined. A word that is no option counts unless it is the value of the option
 * before it, which takes it when it is one of kTakesValue written without `=` (`--require tsx`
 * is fine; `tsx` alone, or `--inspect 9229`, is run as the script).
 */
export function scriptStoppingNodeArg(args: readonly string[]): ScriptStoppingNodeArg | undefined {
  // Said only when nothing else is: beside -e (a primary run with node -e) it is in its place.
  let inputType: ScriptStoppingNodeArg | undefined;
  for (let index = 0; index < args.length; index += 1) {
    const arg = args[index]!;
    const found = (shown: string, problem: string, instead: string): ScriptStoppingNodeArg => ({ index, arg, shown, problem, instead });
    if (arg === '') {
      return found('""', "Node takes an empty argument as the script's name, and reads a script from stdin in place of the worker's: the worker waits there for ever", 'leave it out; an option\'s empty value is an argument of its own right after the option, as in --title ""');
    }
    if (arg === '-') return found('-', "Node's \"-\" reads a script from stdin in place of the worker's: the worker waits there for ever", kLeaveOut);
    if (arg === '--') return found('--', "Node's \"--\" ends Node's options, so an option after it is run as the script, in place of the worker's; it does nothing else here", "leave it out; the worker's script comes after the Node options by itself");
    if (!arg.startsWith('-')) return found(shorten(arg), ...bareWord(arg, args[index - 1]));
    const typed = arg.startsWith('--') ? arg.replace(/=.*$/s, '') : arg;
    // Node reads "_" as "-" in an option's name (--watch_path is --watch-path).
    const name = kAliases[typed] ?? typed.replaceAll('_', '-');
    const spelled = name === typed ? name : `${typed} (${name})`;
    const effect = Object.hasOwn(kEffects, name) ? kEffects[name] : undefined;
    if (effect !== undefined) return found(typed === arg ? arg : `${typed}=…`, `Node's ${spelled} ${effect.does}`, effect.instead);
    if (name === '--input-type') inputType ??= found(arg, `Node's ${spelled} ${kInputType.does}`, kInputType.instead);
    if (typed !== arg || !kTakesValue.has(name)) continue;
    // The next argument is its value, even an empty one (--title "").
    const value = args[index + 1];
    const instead = `give its value after "=", as in ${name}=${kValueWords[name] ?? '<value>'}`;
    if (value === undefined) {
      return found(arg, `Node's ${spelled} takes a value, and none follows it: Node takes the worker's own script as its value, and runs no script`, instead);
    }
    if (value.startsWith('-')) {
      return found(arg, `Node's ${spelled} takes a value, and "${shorten(value)}" after it is an option, not a value: Node refuses to start ("${typed} requires an argument")`, instead);
    }
    index += 1;
  }
  return inputType;
}

/** The problem and advice of a word that no option before it takes as its value. */
function bareWord(word: string, previous: string | undefined): [problem: string, instead: string] {
  const shown = shorten(word);
  // An option of its own (not a value, and not -, --), written without "=": it takes no value.
  if (previous !== undefined && previous.startsWith('--') && previous !== '--' && !previous.includes('=')) {
    return [
      `"${shown}" is no option, nor the value of one: ${previous} before it takes no value as a separate argument, so Node runs "${shown}" as the script, in place of the worker's`,
      `if it is the value of ${previous}, join them with "=": ${previous}=${shown}`,
    ];
  }
  return [`"${shown}" is no option, nor the value of one, so Node runs it as the script, in place of the worker's`, 'if it is the value of an option, join it to its option, as in --import=tsx'];
}

function shorten(word: string): string {
  return word.length > 60 ? `${word.slice(0, 57)}...` : word;
}
