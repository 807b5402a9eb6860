/**
 * H310: Node options that stop a worker's Node from running the worker's script (`--eval`,
 * `--check`, an empty argument...) are refused where they are given, here the library's
 * `execArgv` option; before, the workers waited on stdin or ran the eval, and the ready timeout
 * blamed the script's top-level code.
 */
import { describe, expect, it } from '@jest/globals';
import { ClusterPrimary, InvalidOptionError } from '../../src/index.js';
import { normalizePrimaryOptions } from '../../src/primary/primary-options.js';
import { scriptStoppingNodeArg } from '../../src/primary/script-stopping-node-arg.js';
import { runLoadingSteps } from '../../src/cli/loading-steps.js';
import { fixture } from '../helpers/primary.js';

const kScript = fixture('workers/ready.ts');

/** The error `new ClusterPrimary({ execArgv })` throws. */
function refusal(execArgv: string[] | undefined): InvalidOptionError {
  let error: unknown;
  try {
    new ClusterPrimary({ workerScript: kScript, logger: false, handleSignals: false, ...(execArgv === undefined ? {} : { execArgv }) });
  } catch (thrown) {
    error = thrown;
  }
  expect(error).toBeInstanceOf(InvalidOptionError);
  return error as InvalidOptionError;
}

/** Each `[execArgv, option, received, problem]`: refused naming `option`, its message matching `problem`. */
function expectRefusals(cases: ReadonlyArray<[string[], string, string, RegExp]>): void {
  for (const [execArgv, option, received, problem] of cases) {
    const error = refusal(execArgv);
    expect({ execArgv, option: error.option, received: error.received, code: error.code }).toEqual({ execArgv, option, received, code: 'ERR_INVALID_OPTION' });
    expect(error.message).toMatch(new RegExp(`^The "${option.replace(/[[\]]/g, '\\$&')}" option must be a Node option that lets the worker run its script \\(`));
    expect(error.message).toMatch(problem);
  }
}

describe('Node options that stop the worker from running its script', () => {
  it('[H310] execArgv: each is refused with InvalidOptionError naming it, what it does and what to do', () => {
    const cases: Array<[string[], string, string, RegExp]> = [
      [[''], 'execArgv[0]', '', /Node takes an empty argument as the script's name, and reads a script from stdin .*; leave it out; an option's empty value is an argument of its own right after the option, as in --title ""\)\. Received ""$/],
      [['--enable-source-maps', '-'], 'execArgv[1]', '-', /Node's "-" reads a script from stdin in place of the worker's/],
      [['--', '--import=tsx'], 'execArgv[0]', '--', /Node's "--" ends Node's options, so an option after it is run as the script/],
      [['--eval=process.exit(3)'], 'execArgv[0]', '--eval=process.exit(3)', /Node's --eval runs its code in place of the worker's script; to run code before the script, preload a module instead: --import=<module>/],
      [['-e', 'process.exit(3)'], 'execArgv[0]', '-e', /Node's -e \(--eval\) runs its code/],
      [['-p', '1'], 'execArgv[0]', '-p', /Node's -p \(--print\) runs its code and prints the result/],
      [['--print=1'], 'execArgv[0]', '--print=1', /Node's --print runs its code/],
      [['-pe', '1'], 'execArgv[0]', '-pe', /Node's -pe \(--print\)/],
      [['--check'], 'execArgv[0]', '--check', /Node's --check only checks the script's syntax, and exits without running it; check the syntax with node --check <script> before starting/],
      [['-c'], 'execArgv[0]', '-c', /Node's -c \(--check\)/],
      [['--test'], 'execArgv[0]', '--test', /Node's --test runs the script as a test file in a child process of its own/],
      [['--watch'], 'execArgv[0]', '--watch', /makes the worker a watcher .*; for restarts when files change, use clusterkit run --watch/],
      [['--watch_path=src'], 'execArgv[0]', '--watch_path=src', /Node's --watch_path \(--watch-path\) makes the worker a watcher/],
      [['--version'], 'execArgv[0]', '--version', /Node's --version prints Node's version and exits without running the worker's script; leave it out/],
      [['-v'], 'execArgv[0]', '-v', /Node's -v \(--version\)/],
      [['-h'], 'execArgv[0]', '-h', /Node's -h \(--help\) prints Node's usage/],
      [['--v8-options'], 'execArgv[0]', '--v8-options', /prints V8's options/],
      [['--completion-bash'], 'execArgv[0]', '--completion-bash', /prints a bash completion script/],
      [['--prof-process'], 'execArgv[0]', '--prof-process', /processes a V8 profiler log .*; profile the workers with --prof/],
      [['--build-snapshot'], 'execArgv[0]', '--build-snapshot', /runs the script only to build a startup snapshot, then exits/],
      [['--experimental-sea-config=sea.json'], 'execArgv[0]', '--experimental-sea-config=sea.json', /writes a single-executable blob/],
      [['--run=build'], 'execArgv[0]', '--run=build', /runs a package.json script in place of the worker's script/],
      // A word no option before it can take as its value: Node runs it as the script.
      [['tsx'], 'execArgv[0]', 'tsx', /"tsx" is no option, nor the value of one, so Node runs it as the script, in place of the worker's; if it is the value of an option, join it to its option, as in --import=tsx/],
      [['--import=tsx', 'other.js'], 'execArgv[1]', 'other.js', /"other.js" is no option/],
    ];
    expectRefusals(cases);
  });

  it('[H318][H580] execArgv: a word no option takes as its value, and an option missing its value, are refused naming the option', () => {
    const cases: Array<[string[], string, string, RegExp]> = [
      // --inspect takes its port after "=" only: Node ran 9229 as the script (retest t33 LOW-B).
      [['--inspect', '9229'], 'execArgv[1]', '9229', /"9229" is no option, nor the value of one: --inspect before it takes no value as a separate argument, so Node runs "9229" as the script, in place of the worker's; if it is the value of --inspect, join them with "=": --inspect=9229\)/],
      [['--enable-source-maps', 'tsx'], 'execArgv[1]', 'tsx', /"tsx" is no option, nor the value of one: --enable-source-maps before it takes no value as a separate argument/],
      // V8's options take their value after "=" only.
      [['--max-old-space-size', '256'], 'execArgv[1]', '256', /join them with "=": --max-old-space-size=256\)/],
      // After a value: the option before the word took its one value.
      [['--require', './a.cjs', 'b.cjs'], 'execArgv[2]', 'b.cjs', /"b\.cjs" is no option, nor the value of one, so Node runs it as the script/],
      // Last: Node takes the worker's own script as its value (-r preloaded clusterkit's worker-main.js).
      [['-r'], 'execArgv[0]', '-r', /Node's -r \(--require\) takes a value, and none follows it: Node takes the worker's own script as its value, and runs no script; give its value after "=", as in --require=<module>\)/],
      [['--enable-source-maps', '--import'], 'execArgv[1]', '--import', /Node's --import takes a value, and none follows it.*--import=<module>\)/],
      [['--env-file'], 'execArgv[0]', '--env-file', /Node's --env-file takes a value, and none follows it.*--env-file=<file>\)/],
      // Followed by an option: Node refuses to start.
      [['-r', '--enable-source-maps'], 'execArgv[0]', '-r', /Node's -r \(--require\) takes a value, and "--enable-source-maps" after it is an option, not a value: Node refuses to start \("-r requires an argument"\); give its value after "="/],
      [['--conditions', '-x'], 'execArgv[0]', '--conditions', /"-x" after it is an option, not a value.*--conditions=<condition>\)/],
      [['-C', '-'], 'execArgv[0]', '-C', /Node's -C \(--conditions\) takes a value, and "-" after it is an option/],
      // Node 20 builds a snapshot with it alone, as with --build-snapshot.
      [['--build-snapshot-config', 'snap.json'], 'execArgv[0]', '--build-snapshot-config', /Node's --build-snapshot-config builds a startup snapshot with the builder its file names, then exits without running the worker's script/],
      // [H580] Before (retest t59): accepted, and every start failed on ERR_INPUT_TYPE_NOT_ALLOWED ("check its output").
      [['--input-type=module'], 'execArgv[0]', '--input-type=module', /Node's --input-type makes Node refuse to load the worker's script \(ERR_INPUT_TYPE_NOT_ALLOWED/],
      [['--input-type', 'commonjs'], 'execArgv[0]', '--input-type', /Node's --input-type makes Node refuse/],
    ];
    expectRefusals(cases);
  });

  it('[H318] accepts a value as the next argument after the options Node gives one, an empty one too', () => {
    const accepted = [
      ['-r', './setup.cjs'],
      ['--require', './setup.cjs', '--import', 'tsx', '--enable-source-maps'],
      ['-C', 'development', '--conditions', 'worker'],
      ['--loader', 'ts-node/esm', '--experimental-loader', './hooks.mjs'],
      ['--inspect-port', '0', '--inspect'],
      ['--title', ''],
      ['--title', 'api', '--env-file', '.env', '--stack-trace-limit=50'],
      ['--unhandled-rejections', 'strict', '--dns-result-order', 'ipv4first'],
      ['--env_file', '.env'],
      ['--inspect=9229', '--max-old-space-size=256'],
    ];
    for (const execArgv of accepted) {
      expect({ execArgv, found: scriptStoppingNodeArg(execArgv) }).toEqual({ execArgv, found: undefined });
      expect(normalizePrimaryOptions({ workerScript: kScript, execArgv }).execArgv).toEqual(execArgv);
    }
  });

  it("[H310] the default, the primary's own process.execArgv, is refused when it holds one (a primary run with node -e)", () => {
    const own = process.execArgv;
    process.execArgv = ['--input-type=module', '-e', 'import("clusterkit")'];
    try {
      const error = refusal(undefined);
      expect(error.option).toBe('execArgv');
      expect(error.message).toBe(
        'The "execArgv" option must be given: its default is the primary\'s own Node options (process.execArgv), and -e among them stops the workers from running their script ' +
          "(Node's -e (--eval) runs its code in place of the worker's script); pass the workers' own, such as execArgv: []. Received \"-e\"",
      );
      // Given, the workers' own options are used, not the primary's.
      expect(normalizePrimaryOptions({ workerScript: kScript, execArgv: [] }).execArgv).toEqual([]);
    } finally {
      process.execArgv = own;
    }
  });

  it('[H310] accepts what lets the script run: values after their option, and the options left accepted on purpose', () => {
    const accepted = [
      ['--import', 'tsx'],
      ['--require', './setup.cjs', '--enable-source-maps'],
      ['--max-old-space-size=256', '--title=api'],
      // Node 20 runs a script it is given and ignores -i; the inspector ones wait for a debugger, as asked.
      ['-i'],
      ['--interactive'],
      ['--inspect-brk=0'],
      ['--snapshot-blob=app.blob'],
      // They change --watch, --test or --eval, and do nothing alone.
      ['--watch-preserve-output'],
      ['--test-only', '--test-reporter=tap'],
      ['--no-such-flag'],
    ];
    for (const execArgv of accepted) {
      expect({ execArgv, found: scriptStoppingNodeArg(execArgv) }).toEqual({ execArgv, found: undefined });
      expect(normalizePrimaryOptions({ workerScript: kScript, execArgv }).execArgv).toEqual(execArgv);
    }
  });

  it('[H310] the ready timeout line names the --node-arg options given when none is a preload, not "none in --node-arg"', () => {
    expect(runLoadingSteps({ inherited: [], nodeArgs: ['--enable-source-maps', '--max-old-space-size=256', '--title', 'secret'], nodeOptions: '' })).toBe(
      'the script itself: its top-level code and the modules it loads, with no preload before it: --node-arg or nodeArgs gave --enable-source-maps --max-old-space-size --title, none of them a preload, and none in NODE_OPTIONS',
    );
    // No --node-arg: as before (H215).
    expect(runLoadingSteps({ inherited: [], nodeArgs: [], nodeOptions: undefined })).toBe(
      'the script itself: its top-level code and the modules it loads, with no preload before it: none in --node-arg or NODE_OPTIONS',
    );
  });
});
