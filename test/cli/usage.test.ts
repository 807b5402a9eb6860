import { readFileSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { helpText, kCommandNames } from '../../src/cli/help.js';
import { cleanUpCli, cli, runtimeDir, tempProject } from './cli-process.js';

afterEach(() => cleanUpCli());

const demo = 'examples/demo/server.js';

/** [arguments, what stderr must say]. Every one exits 2, prints the usage and forks nothing. */
const kBadInput: Array<[string[], RegExp]> = [
  [[], /Missing the command\./],
  [['--frobnicate'], /Unknown option --frobnicate\./],
  [['staus'], /Unknown command "staus"\. Did you mean "status"\?/],
  [['help', 'nope'], /Unknown command "nope"\./],
  [['run'], /Missing the script to run\./],
  [['run', 'examples'], /The script \/\S+\/examples is not a regular file \(it is a directory\); name the file your workers run\./],
  // What was typed is quoted with its control characters escaped: an ESC sequence cannot retitle the terminal.
  [['\x1b]0;pwn\x07'], /Unknown command "\\x1b\]0;pwn\\x07"\./],
  [['run', 'no/such/server.js'], /Script not found: \/\S+\/no\/such\/server\.js \(relative to the current directory; with --cwd <dir>, to that directory first\)\./],
  // PM2 resolves a relative script in --cwd; clusterkit too, then here, and says where it looked.
  [['run', 'nope.js', '--cwd', 'examples/demo'], /Script not found: \/\S+\/examples\/demo\/nope\.js \(relative to --cwd \/\S+\/examples\/demo\), nor \/\S+\/nope\.js \(relative to the current directory\)\./],
  [['run', 'nope.js', '--cwd', 'no/such/dir'], /--cwd: no such directory: \/\S+\/no\/such\/dir/],
  // A PM2 user's habits get clusterkit's words; a near miss is never "stop".
  [['run', demo, '-i', '4'], /Unknown option -i\. PM2's -i is -w \(--workers\) here: -w 4, or -w max/],
  [['run', demo, '--instances=max'], /Unknown option --instances\. PM2's --instances is --workers \(-w\) here/],
  [['run', demo, '--kill-timeout', '5000'], /Unknown option --kill-timeout\. PM2's --kill-timeout is --shutdown-timeout here/],
  [['run', demo, '--max-memory-restart', '512M'], /Unknown option --max-memory-restart\. PM2's --max-memory-restart is --max-memory here/],
  [['run', demo, '--node-args', '--inspect'], /Unknown option --node-args\. PM2's --node-args is --node-arg here/],
  [['run', demo, '--wokers', '2'], /Unknown option --wokers\. Did you mean --workers\?/],
  [['run', demo, '--min-uptime', '1000'], /Unknown option --min-uptime\. PM2's --min-uptime is --startup-window here: --startup-window 1s/],
  [['run', demo, '--restart-delay', '1000'], /Unknown option --restart-delay\. PM2's --restart-delay is not needed: restarts back off on their own/],
  [['run', demo, '--max-restarts', '0'], /--max-restarts must be a positive integer\. Received "0"\./],
  [['run', demo, '--startup-window', 'soon'], /--startup-window must be a duration such as 10s, 500ms or 2m\. Received "soon"\./],
  [['restart', 'api'], /Unknown command "restart"\. PM2's "restart" is "reload": clusterkit reload <name> replaces the workers one by one, with no downtime/],
  [['start', demo], /Unknown command "start"\. PM2's "start" is "run"/],
  [['delete', 'api'], /Unknown command "delete"\. PM2's "delete" is "stop"/],
  [['monit'], /Unknown command "monit"\. PM2's "monit" is "dashboard"/],
  [['jlist'], /Unknown command "jlist"\. PM2's "jlist" is "list --json": clusterkit list --json/],
  [['startOrReload'], /Unknown command "startOrReload"\. PM2's "startOrReload" is "reload" for a cluster that runs/],
  [['scale', 'api', '+1', '-1'], /Unexpected argument "-1"\./],
  [['stp', 'api'], /Unknown command "stp"\. Commands: run, status/],
  [['run', demo, '--env', 'production'], /--env production picks "env_production" of a config file's apps, as PM2's --env does, and a script was named, so no config file is read; give the variables instead: --env NODE_ENV=production, or --env-file \.env\.production/],
  [['run', demo, '--bogus'], /Unknown option --bogus\./],
  [['run', demo, '-w', 'zero'], /--workers must be a positive integer, "auto" or "max"\. Received "zero"\./],
  [['run', demo, '-w', '0'], /--workers must be a positive integer, "auto" or "max"\. Received "0"\. PM2's -i 0 means one per CPU: use -w max\.\n/],
  [['run', 'npm', '--', 'start'], /Script not found: \/\S+\/npm \(relative to the current directory; with --cwd <dir>, to that directory first\): clusterkit runs a Node script, not a command from PATH\. Name the file "npm start" runs \(package\.json's scripts\.start: for "node server\.js", \.\/server\.js\) instead, with that file's own arguments\.\n/],
  [['run', demo, '-w'], /Option --workers needs a value\./],
  [['run', demo, '--shutdown-timeout', '10x'], /--shutdown-timeout must be a duration such as 10s, 500ms or 2m\. Received "10x"\./],
  // [H611] A negative number is said to be one: "join it with =" led to a second refusal (ops t61: logs --lines -3).
  [['run', demo, '--ready-timeout', '-1s'], /Option --ready-timeout is followed by "-1s", a negative number, which --ready-timeout does not take \(its values: clusterkit run --help\)\./],
  [['run', demo, '--gradual-drain', '-1'], /Option --gradual-drain is followed by "-1", a negative number, which --gradual-drain does not take \(its values: clusterkit run --help\)\./],
  // Where a positional value goes too (retest t61: `scale x -1.5` said "Unknown option -1.").
  [['scale', 'nothing-here', '-1.5'], /"-1\.5" is a negative number, which clusterkit scale does not take \(its values: clusterkit scale --help\)\./],
  [['logs', 'nothing-here', '--lines', '-3'], /Option --lines is followed by "-3", a negative number, which --lines does not take \(its values: clusterkit logs --help\)\./],
  [['run', demo, '--node-arg', '--max-old-space-size=256', '--bogus'], /Option --node-arg is followed by "--max-old-space-size=256", which starts with "-".* If it is the value, join it with "=": --node-arg=--max-old-space-size=256\./],
  [['run', demo, '--gradual-drain=-1'], /--gradual-drain must be a duration such as 10s, 500ms or 2m\. Received "-1"\./],
  [['run', demo, '--gradual-drain', 'abc'], /--gradual-drain must be a duration such as 10s, 500ms or 2m\. Received "abc"\./],
  // A fraction of a millisecond is refused, not rounded: rounded, 0.4ms would silently be 0 (off).
  [['run', demo, '--gradual-drain', '0.4ms'], /--gradual-drain must be at least 1ms, or 0 to turn it off\. Received "0\.4ms"\./],
  [['run', demo, '--startup-window', '0.4ms'], /--startup-window must be at least 1ms, or 0 \(only exits before ready are failed starts\)\. Received "0\.4ms"\./],
  [['run', demo, '--gradual-drain', '1.5'], /--gradual-drain must be a whole number of milliseconds\. Received "1\.5"\./],
  [['run', demo, '--shutdown-timeout', '0.5ms'], /--shutdown-timeout must be at least 1ms\. Received "0\.5ms"\./],
  [['run', demo, '--cron-restart', '0 3 * *'], /--cron-restart must be a cron expression of 5 fields \(minute hour day-of-month month day-of-week\) or 6 \(seconds first\), read in the primary's local time zone, such as '0 3 \* \* \*' \(every day at 03:00\); it has 4 fields: 5 or 6 are read \(no year field\)\. Received "0 3 \* \*"\./],
  [['run', demo, '--cron', '0 3 * * *'], /Unknown option --cron\. PM2's --cron is --cron-restart here: --cron-restart "0 3 \* \* \*"/],
  [['run', demo, '--max-memory', 'lots'], /--max-memory must be a memory size such as 512M or 1G\. Received "lots"\./],
  [['run', demo, '--max-memory', '100K'], /--max-memory must be at least 64M: a Node\.js worker uses about 50 MB of memory before it runs any code, so a lower limit would replace it forever\. Received "100K"\./],
  [['run', demo, '--node-arg', '--import=tsx'], /Option --node-arg is followed by "--import=tsx", which starts with "-", so it is read as an option, not as the value of --node-arg \(the command's own options start with "-" too\)\. If it is the value, join it with "=": --node-arg=--import=tsx\./],
  [['run', demo, '--name', 'a/b'], /--name "a\/b" is not a cluster name: it has a "\/"; a cluster name is 1 to 64 characters.* Try "a-b"\./],
  [['run', demo, 'extra'], /Unexpected argument "extra"\. Pass arguments for the script after "--"\./],
  [['run', demo, '--dev', '-w', '2'], /--dev runs a single worker; leave out --workers, or leave out --dev\./],
  [['run', demo, '--log-format', 'xml'], /--log-format must be "line" or "json"\. Received "xml"\./],
  [['status', 'a', 'b'], /Unexpected argument "b"\./],
  [['status', '--json=yes'], /Option --json does not take a value\./],
  [['status', '--interval', '1s'], /--interval only applies with --watch\./],
  [['status', '--watch', '--interval', 'often'], /--interval must be a duration/],
  [['reload'], /Missing the cluster name\./],
  [['stop', 'a', 'b'], /Unexpected argument "b"\./],
  [['scale'], /Missing the cluster name and the worker count\./],
  [['scale', 'ghost'], /Missing the worker count\./],
  [['scale', 'ghost', 'many'], /The worker count must be a positive integer\. Received "many"\./],
  [['scale', 'ghost', '0'], /A cluster keeps at least 1 worker, so it cannot scale to 0\. To stop ghost and its workers: clusterkit stop ghost\./],
  [['list', 'extra'], /Unexpected argument "extra"\./],
  [['run', demo, '--env', 'NOEQUALS'], /--env must be KEY=VALUE\. Received an argument \(one word of 8 characters, not shown: it may be a value\)\./],
  [['run', demo, '--env', '1BAD=x'], /--env: "1BAD" is not a variable name/],
  // (A missing --env-file is not here: Node 20 reads --env-file anywhere on its command line
  // and exits 9 itself, "node: <file>: not found". config.test.ts covers a missing envFile.)
  [['run', demo, '--cwd', 'no/such/dir'], /--cwd: no such directory: \/\S+\/no\/such\/dir/],
  [['run', demo, '--watch', 'no/such/dir'], /--watch: no such file or directory: \/\S+\/no\/such\/dir/],
  [['run', demo, '--watch-delay', '1s'], /--watch-delay only applies with --watch\./],
  [['run', demo, '--watch', '--watch-delay', 'soon'], /--watch-delay must be a duration such as 10s/],
  [['run', '--config', 'no/such.config.ts'], /Config file not found: \/\S+\/no\/such\.config\.ts/],
  [['run', '--config', 'package.json', 'x', 'y'], /Unexpected argument "y"\./],
  [['logs'], /Missing the cluster name\./],
  [['logs', 'a', 'b'], /Unexpected argument "b"\./],
  // 0 is a valid --lines (no old lines, with --follow only new ones): the message says so.
  [['logs', 'ghost', '--lines', 'many'], /--lines must be 0 or a positive integer\. Received "many"\./],
  [['logs', 'ghost', '--lines=-3'], /--lines must be 0 or a positive integer\. Received "-3"\./],
  [['logs', 'ghost', '--worker', '0'], /--worker must be a positive integer\. Received "0"\./],
];

describe('bad input', () => {
  it('[H611] exits 2 with a message (and the usage line) for every kind of bad input', async () => {
    const runtime = runtimeDir();
    const results = await Promise.all(kBadInput.map(([args]) => cli(args, { runtime })));
    results.forEach((result, index) => {
      const [args, message] = kBadInput[index]!;
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.stderr).toMatch(new RegExp(`^clusterkit: ${message.source}`));
      expect(result.stdout).toBe('');
      // Nothing was forked for bad input.
      expect(result.stderr).not.toMatch(/worker \d+/);
    });
    const usage = results[kBadInput.findIndex(([args]) => args[0] === 'run' && args[1] === 'no/such/server.js')]!;
    expect(usage.stderr).toContain('Usage: clusterkit run [<script> | <app>] [options] [-- script args]\nRun "clusterkit run --help" for the options and examples.\n');
  });
});

/** Any character below 0x20 but the newline, and DEL. */
// eslint-disable-next-line no-control-regex
const kControlCharacters = /[\x00-\x09\x0b-\x1f\x7f]/g;

describe('help', () => {
  it('has no control characters in any help text (a raw ESC would drive the terminal)', () => {
    for (const command of [undefined, ...kCommandNames]) {
      expect({ command, controls: helpText(command).match(kControlCharacters) }).toEqual({ command, controls: null });
    }
    // The logs help names the escape it prints, as text.
    expect(helpText('logs')).toContain('shown escaped (\\x1b)');
  });

  it('prints help with examples for the tool and every command, and the version', async () => {
    const runtime = runtimeDir();
    const commands = ['run', 'status', 'list', 'reload', 'stop', 'scale', 'logs'];
    const [top, ...each] = await Promise.all([cli(['--help'], { runtime }), ...commands.map((command) => cli([command, '--help'], { runtime }))]);
    expect(top).toMatchObject({ code: 0, stderr: '' });
    expect(top!.stdout).toMatch(/^Usage: clusterkit <command> \[options\]/);
    for (const command of commands) expect(top!.stdout).toMatch(new RegExp(`^  ${command} `, 'm'));
    each.forEach((result, index) => {
      expect(result).toMatchObject({ code: 0, stderr: '' });
      // Text only: a raw ESC (or any control character but the newline) would act on the terminal.
      expect({ command: commands[index], controls: result.stdout.match(kControlCharacters) }).toEqual({ command: commands[index], controls: null });
      expect(result.stdout).toMatch(new RegExp(`^Usage: clusterkit ${commands[index]}`));
      expect(result.stdout).toMatch(new RegExp(`Examples:\\n  clusterkit ${commands[index]}\\b`));
    });
    // Exit 3 (stop, reload or scale done, but requests cut off or a worker stopped uncleanly) is
    // in the help of the tool and of each command that gives it, not in cli.md alone.
    expect(top!.stdout).toContain(
      'Exit codes: 0 done, 1 failed, 2 bad usage (unknown command or option, bad value),\n3 stop, reload or scale done, but a worker it stopped cut requests off or did not stop cleanly,\n4 no cluster of that name is running (nothing was done).\n',
    );
    const exitThree = { stop: '; 3 stopped, but a worker cut requests off', reload: '; 3 reloaded, but an old worker cut requests off', scale: '; 3 scaled down, but a stopped worker cut requests off' };
    for (const [command, text] of Object.entries(exitThree)) expect({ command, has: each[commands.indexOf(command)]!.stdout.includes(text) }).toEqual({ command, has: true });
    expect((await cli(['help', 'scale'], { runtime })).stdout).toBe(each[5]!.stdout);
    const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
    expect(await cli(['--version'], { runtime })).toEqual({ code: 0, stdout: `${version}\n`, stderr: '' });
  });
});

describe('a script that is a symbolic link leading nowhere', () => {
  it('[H565] is said to be one (a loop of links, a missing target), on the command line and in a config file, not "Script not found"', async () => {
    const runtime = runtimeDir();
    const project = tempProject({ 'readme.txt': 'links\n' });
    symlinkSync('loop-b.js', join(project, 'loop-a.js'));
    symlinkSync('loop-a.js', join(project, 'loop-b.js'));
    const configured = tempProject({ 'clusterkit.config.mjs': "export default { apps: [{ name: 'dangling', script: './gone.js' }] };\n" });
    symlinkSync('nowhere.js', join(configured, 'gone.js'));
    const loop = await cli(['run', 'loop-a.js'], { runtime, cwd: project });
    expect(loop.code).toBe(2);
    // Before (hostile t58): `Script not found: .../loop-a.js`, for a name that is there.
    expect(loop.stderr).toContain(`The script ${join(project, 'loop-a.js')} cannot be reached: a loop of symbolic links in its path (ELOOP); point it at the file your workers run.`);
    // A link that leads nowhere, or a file, as a directory of the path (retest t58).
    symlinkSync('nodir', join(project, 'dangling-dir'));
    const inDangling = await cli(['run', 'dangling-dir/x.js'], { runtime, cwd: project });
    expect(inDangling.stderr).toContain(`The script ${join(project, 'dangling-dir/x.js')} cannot be reached: ${join(project, 'dangling-dir')} is a symbolic link that leads to no file (ENOENT: its target is missing)`);
    const inFile = await cli(['run', 'readme.txt/x.js'], { runtime, cwd: project });
    expect(inFile.stderr).toContain(`The script ${join(project, 'readme.txt/x.js')} cannot be reached: ${join(project, 'readme.txt')} is not a directory (ENOTDIR)`);
    // The same for --cwd (final retest t58: "no such directory" of a file that is there).
    const cwdFile = await cli(['run', 'x.js', '--cwd', 'readme.txt'], { runtime, cwd: project });
    expect(cwdFile.stderr).toContain(`--cwd: ${join(project, 'readme.txt')} is not a directory (it is a regular file)`);
    const cwdLoop = await cli(['run', 'x.js', '--cwd', 'loop-a.js'], { runtime, cwd: project });
    expect(cwdLoop.stderr).toContain(`--cwd: ${join(project, 'loop-a.js')} cannot be reached: a loop of symbolic links in its path (ELOOP)`);
    const config = await cli(['run'], { runtime, cwd: configured });
    expect(config.code).toBe(2);
    expect(config.stderr).toContain(`"apps[0].script": ${join(configured, 'gone.js')} cannot be reached: ${join(configured, 'gone.js')} is a symbolic link that leads to no file (ENOENT: its target is missing)`);
  });
});
