/**
 * H253: `clusterkit run` with a Node option the workers' Node refuses (`--no-such-flag`, from
 * `--node-arg`, a clusterkit config's `nodeArgs` or a PM2 file's `node_args`) fails after one
 * attempt per worker slot, its lines naming the option and where to fix it; before, each slot's
 * worker was forked 3 times and the failure read as a script that ended while loading.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { cleanUpCli, cli, runtimeDir, startCli, tempProject } from './cli-process.js';

afterEach(() => cleanUpCli());

const kServer = "require('node:http').createServer((request, response) => response.end('ok')).listen(0, '127.0.0.1');\n";

/** What a run that Node refused its workers' options says: checked the same whatever set the option. */
function expectRefusedOnce(result: { code: number | string; stdout: string; stderr: string }): void {
  const output = `${result.stdout}${result.stderr}`;
  expect(result.code).toBe(1);
  expect(output).toContain('bad option: --no-such-flag');
  // One fork per slot (2 workers), none restarted: before, workers 3, 4, 5...
  expect(output).not.toMatch(/\bworker 3\b/);
  expect(output).not.toContain('ended while still loading');
  // Either worker may be refused first: both fork at once, and a busy machine orders their exits (under-load run 3).
  expect(output).toMatch(/ERROR worker [12] could not start: it exited with code 9 before it ran any JavaScript: Node refused its options \(execArgv (\S+ )*--no-such-flag; likely --no-such-flag, not an option this Node lists\)/);
  expect(output).toContain("Fix or remove that option where the workers' Node options are set (clusterkit run: --node-arg; a config file: nodeArgs, or PM2's node_args; the library: the execArgv option), then start again.");
  expect(output).toMatch(/ERROR The service "\S+" could not start: worker \d+ \(pid \d+\) exited with code 9 before it ran any JavaScript: .*\(1 attempt of worker slot \d\)\./);
}

describe('clusterkit run with a Node option Node refuses', () => {
  it('[H253] --node-arg=--no-such-flag: one attempt per slot, the option named', async () => {
    const project = tempProject({ 'server.cjs': kServer });
    expectRefusedOnce(await cli(['run', 'server.cjs', '-w', '2', '--name', 'badopt', '--node-arg=--no-such-flag'], { runtime: runtimeDir(), cwd: project }));
  });

  it("[H253] a clusterkit config's nodeArgs and a PM2 file's node_args: the same", async () => {
    const project = tempProject({
      'server.cjs': kServer,
      'clusterkit.config.json': '{ "apps": [{ "name": "own", "script": "server.cjs", "workers": 2, "nodeArgs": ["--no-such-flag"] }] }',
      'ecosystem.config.cjs': "module.exports = { apps: [{ name: 'pm2', script: 'server.cjs', instances: 2, node_args: '--no-such-flag' }] };\n",
    });
    const [own, pm2] = await Promise.all([
      cli(['run', 'clusterkit.config.json'], { runtime: runtimeDir(), cwd: project }),
      cli(['run', 'ecosystem.config.cjs'], { runtime: runtimeDir(), cwd: project }),
    ]);
    expectRefusedOnce(own);
    expectRefusedOnce(pm2);
  });
});

/**
 * H310: Node options that stop Node from running the workers' script are a usage error (exit 2,
 * the usage line), before anything forks. Before, `--node-arg=` and `--check` left each worker
 * waiting on stdin until its ready timeout, `--eval=...` ran the eval, and the failure blamed
 * the script's top-level code.
 */
describe('clusterkit run with a Node option that stops the script from running', () => {
  it('[H310] --node-arg= (empty), --check, --eval, -, --, a bare word: exit 2 with the usage line, each named with what it does', async () => {
    const project = tempProject({ 'server.cjs': kServer, 'warm.cjs': "console.log('warmed');\n" });
    const cases: Array<[string[], string]> = [
      [['--node-arg='], "--node-arg= would stop the workers from running their script: Node takes an empty argument as the script's name, and reads a script from stdin in place of the worker's: the worker waits there for ever. Leave it out; an option's empty value is an argument of its own right after the option, as in --title \"\"."],
      [['--node-arg=--check'], "--node-arg=--check would stop the workers from running their script: Node's --check only checks the script's syntax, and exits without running it. Check the syntax with node --check <script> before starting."],
      [['--node-arg=--eval=process.exit(3)'], "--node-arg=--eval=… would stop the workers from running their script: Node's --eval runs its code in place of the worker's script. To run code before the script, preload a module instead: --import=<module>, or --require=<module> for CommonJS."],
      [['--node-arg=--enable-source-maps', '--node-arg=-'], "--node-arg=- would stop the workers from running their script: Node's \"-\" reads a script from stdin in place of the worker's: the worker waits there for ever. Leave it out."],
      [['--node-arg=--'], "--node-arg=-- would stop the workers from running their script: Node's \"--\" ends Node's options, so an option after it is run as the script"],
      [['--node-arg=--watch'], "--node-arg=--watch would stop the workers from running their script: Node's --watch makes the worker a watcher that runs the script in a child process of its own, which is not the worker. For restarts when files change, use clusterkit run --watch"],
      [['--node-arg=tsx'], '--node-arg=tsx would stop the workers from running their script: "tsx" is no option, nor the value of one, so Node runs it as the script'],
    ];
    const results = await Promise.all(cases.map(([flags]) => cli(['run', 'server.cjs', '-w', '1', '--name', 'stopped', ...flags], { runtime: runtimeDir(), cwd: project })));
    results.forEach((result, index) => {
      const [flags, message] = cases[index]!;
      expect({ flags, code: result.code }).toEqual({ flags, code: 2 });
      expect(result.stderr).toContain(`clusterkit: ${message}`);
      expect(result.stderr).toContain('Usage: clusterkit run ');
      expect(`${result.stdout}${result.stderr}`).not.toMatch(/worker \d+ (forked|ready)|could not start|ready-timeout/);
    });
    // A value after its option is no script: it still runs.
    const run = startCli(['run', 'server.cjs', '-w', '1', '--name', 'preloaded', '--node-arg=--require', '--node-arg=./warm.cjs'], { runtime: runtimeDir(), cwd: project });
    await run.waitFor(/service preloaded started/);
    expect(run.output()).toContain('warmed');
  });

  it("[H310] a clusterkit config's nodeArgs and a PM2 file's node_args: the same, naming the key", async () => {
    const project = tempProject({
      'server.cjs': kServer,
      'clusterkit.config.json': '{ "apps": [{ "name": "own", "script": "server.cjs", "nodeArgs": ["--enable-source-maps", "-e", "1"] }] }',
      'ecosystem.config.cjs': "module.exports = { apps: [{ name: 'pm2', script: 'server.cjs', node_args: '--check' }] };\n",
    });
    const [own, pm2] = await Promise.all([
      cli(['run', 'clusterkit.config.json'], { runtime: runtimeDir(), cwd: project }),
      cli(['run', 'ecosystem.config.cjs'], { runtime: runtimeDir(), cwd: project }),
    ]);
    expect([own.code, pm2.code]).toEqual([2, 2]);
    expect(own.stderr).toContain(`clusterkit: ${project}/clusterkit.config.json: "apps[0].nodeArgs[1]" is "-e", which would stop the workers from running their script: Node's -e (--eval) runs its code in place of the worker's script. To run code before the script, preload a module instead`);
    // PM2's string, split as PM2 splits it: named in PM2's spelling.
    expect(pm2.stderr).toMatch(/clusterkit: \S+ecosystem\.config\.cjs: app "pm2": "apps\[0\]\.node_args\[0\]" is "--check", which would stop the workers from running their script: Node's --check only checks the script's syntax/);
    for (const result of [own, pm2]) expect(`${result.stdout}${result.stderr}`).not.toMatch(/worker \d+ (forked|ready)/);
  });
});

/**
 * H318: Node takes a value as the next argument only after the options that have one
 * (`--require`, `--import`, `-r`, `-C`, `--title`...). Before, any option let the word after it
 * pass: `--node-arg=--inspect --node-arg=9229` started workers that ran `9229` as their script
 * (`Cannot find module .../9229`, 3 attempts, exit 1), and a value-less `--node-arg=-r` preloaded
 * clusterkit's own worker-main.js (`ERR_REQUIRE_ASYNC_MODULE`). The space form
 * `--node-arg --max-old-space-size=256` stays refused (`--node-arg --watch` could be either
 * program's), now saying the `=` form to write.
 */
describe('clusterkit run with a Node option given its value as the next argument', () => {
  it('[H318] a word no option takes, an option with no value, the space form: exit 2 with the usage line, naming the option', async () => {
    const project = tempProject({ 'server.cjs': kServer, 'warm.cjs': "console.log('warmed', process.title);\n" });
    const cases: Array<[string[], string]> = [
      [['--node-arg=--inspect', '--node-arg=9229'], '--node-arg=9229 would stop the workers from running their script: "9229" is no option, nor the value of one: --inspect before it takes no value as a separate argument, so Node runs "9229" as the script, in place of the worker\'s. If it is the value of --inspect, join them with "=": --inspect=9229.'],
      [['--node-arg=--enable-source-maps', '--node-arg=tsx'], '--node-arg=tsx would stop the workers from running their script: "tsx" is no option, nor the value of one: --enable-source-maps before it takes no value'],
      [['--node-arg=-r'], "--node-arg=-r would stop the workers from running their script: Node's -r (--require) takes a value, and none follows it: Node takes the worker's own script as its value, and runs no script. Give its value after \"=\", as in --require=<module>."],
      [['--node-arg=--import', '--node-arg=--enable-source-maps'], "--node-arg=--import would stop the workers from running their script: Node's --import takes a value, and \"--enable-source-maps\" after it is an option, not a value: Node refuses to start (\"--import requires an argument\"). Give its value after \"=\", as in --import=<module>."],
      [['--node-arg', '--max-old-space-size=256'], 'Option --node-arg is followed by "--max-old-space-size=256", which starts with "-", so it is read as an option, not as the value of --node-arg (the command\'s own options start with "-" too). If it is the value, join it with "=": --node-arg=--max-old-space-size=256.'],
    ];
    const results = await Promise.all(cases.map(([flags]) => cli(['run', 'server.cjs', '-w', '1', '--name', 'valued', ...flags], { runtime: runtimeDir(), cwd: project })));
    results.forEach((result, index) => {
      const [flags, message] = cases[index]!;
      expect({ flags, code: result.code }).toEqual({ flags, code: 2 });
      expect(result.stderr).toContain(`clusterkit: ${message}`);
      expect(result.stderr).toContain('Usage: clusterkit run ');
      expect(`${result.stdout}${result.stderr}`).not.toMatch(/worker \d+ (forked|ready)|could not start|Cannot find module/);
    });
    // A value after -r or --title, an empty one too, is no script: it runs.
    const run = startCli(['run', 'server.cjs', '-w', '1', '--name', 'valued', '--node-arg=-r', '--node-arg=./warm.cjs', '--node-arg=--title', '--node-arg=ck-h318'], { runtime: runtimeDir(), cwd: project });
    await run.waitFor(/service valued started/);
    expect(run.output()).toContain('warmed ck-h318');
  });

  it("[H318] a clusterkit config's nodeArgs and a PM2 file's node_args: the same, naming the key and index", async () => {
    const project = tempProject({
      'server.cjs': kServer,
      'clusterkit.config.json': '{ "apps": [{ "name": "own", "script": "server.cjs", "nodeArgs": ["--require", "./a.cjs", "--import"] }] }',
      'ecosystem.config.cjs': "module.exports = { apps: [{ name: 'pm2', script: 'server.cjs', node_args: '--inspect 9229' }] };\n",
    });
    const [own, pm2] = await Promise.all([
      cli(['run', 'clusterkit.config.json'], { runtime: runtimeDir(), cwd: project }),
      cli(['run', 'ecosystem.config.cjs'], { runtime: runtimeDir(), cwd: project }),
    ]);
    expect([own.code, pm2.code]).toEqual([2, 2]);
    expect(own.stderr).toContain(`clusterkit: ${project}/clusterkit.config.json: "apps[0].nodeArgs[2]" is "--import", which would stop the workers from running their script: Node's --import takes a value, and none follows it`);
    expect(pm2.stderr).toMatch(/clusterkit: \S+ecosystem\.config\.cjs: app "pm2": "apps\[0\]\.node_args\[1\]" is "9229", which would stop the workers from running their script: "9229" is no option, nor the value of one: --inspect before it takes no value as a separate argument/);
    for (const result of [own, pm2]) expect(`${result.stdout}${result.stderr}`).not.toMatch(/worker \d+ (forked|ready)/);
  });
});
