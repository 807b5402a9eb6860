/**
 * A config file named where a script goes, as a PM2 user types it (`pm2 start
 * ecosystem.config.js`): `clusterkit run ecosystem.config.cjs` reads it as `-c` would, and says
 * so; a config file whose name does not say so (`ecosystem.js`) runs as a script, and its
 * worker says what it is. Before, both ran as a 1-worker cluster serving nothing, forever.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { get } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { kRepoRoot } from '../helpers/spawn.js';
import { cleanUpCli, cli, runtimeDir, startCli, tempProject } from './cli-process.js';

afterEach(() => cleanUpCli());

const kServer = readFileSync(join(kRepoRoot, 'test/fixtures/cli-env-server.mjs'), 'utf8');

/** The line said before the file is read. */
function notice(typed: string, ending: string): string {
  return `clusterkit: reading ${typed} as a config file (a name ending in ${ending} is one, as in PM2), as "clusterkit run -c ${typed}" does; to run a script of that name, rename it.\n`;
}

function withoutLoadingNotice(stderr: string): string {
  return stderr.replace(/^clusterkit: loading .*\.\.\. \(waiting for its default export; giving up after \d+ s\)\n/m, '');
}

describe('clusterkit run <config file>', () => {
  it('[H64][H119] reads ecosystem.config.cjs as a config: a value PM2 would not take is named with its app (exit 2), and nothing starts', async () => {
    const runtime = runtimeDir();
    const project = tempProject({
      'server.mjs': kServer,
      'ecosystem.config.cjs': `module.exports = { apps: [{ name: 'eco', script: './server.mjs', instances: 'two', exec_mode: 'cluster', env: { PORT: 3472 }, max_memory_restart: '300MB' }] };\n`,
      'sub/ecosystem.config.cjs': `module.exports = { apps: [{ script: '../server.mjs', instances: 'two' }] };\n`,
    });
    const results = await Promise.all([
      cli(['run', 'ecosystem.config.cjs'], { runtime, cwd: project }),
      // A path, and a file found in --cwd as a script would be.
      cli(['run', './sub/ecosystem.config.cjs'], { runtime, cwd: project }),
      cli(['run', 'ecosystem.config.cjs', '--cwd', 'sub'], { runtime, cwd: project }),
    ]);
    expect(results.map((result) => result.code)).toEqual([2, 2, 2]);
    for (const result of results) expect(result.stdout).toBe('');
    const [plain, path, inCwd] = results.map((result) => withoutLoadingNotice(result.stderr));
    const instances = `"apps[0].instances" must be a whole number or "max", as PM2 takes it: 4, "max" or 0 (one per CPU), -1 (every CPU but one). Received "two".`;
    expect(plain).toBe(
      notice('ecosystem.config.cjs', '.config.cjs') +
        `clusterkit: ${join(project, 'ecosystem.config.cjs')}: 2 problems:\n` +
        `  - app "eco": ${instances}\n` +
        `  - app "eco": "apps[0].max_memory_restart" must be a memory size as PM2 takes it: '512M', '1G', '300K', or a number of bytes. Received "300MB".\n` +
        'Usage: clusterkit run [<script> | <app>] [options] [-- script args]\nRun "clusterkit run --help" for the options and examples.\n',
    );
    expect(path).toContain(notice('./sub/ecosystem.config.cjs', '.config.cjs'));
    for (const stderr of [path, inCwd]) expect(stderr).toContain(`clusterkit: ${join(project, 'sub/ecosystem.config.cjs')}: ${instances}\n`);
  });

  it('says, for PM2\'s script: "npm" with args: "start", that clusterkit runs a Node script and which file to name (exit 2)', async () => {
    const project = tempProject({ 'ecosystem.config.cjs': `module.exports = { apps: [{ name: 'npmapp', script: 'npm', args: 'start', instances: 2 }] };\n` });
    const result = await cli(['run', 'ecosystem.config.cjs'], { runtime: runtimeDir(), cwd: project });
    expect(result.code).toBe(2);
    // Before: the file not found, and nothing more.
    expect(withoutLoadingNotice(result.stderr)).toContain(
      `clusterkit: ${join(project, 'ecosystem.config.cjs')}: app "npmapp": "apps[0].script": script not found: ${join(project, 'npm')}: clusterkit runs a Node script, not a command from PATH. Name the file "npm start" runs (package.json's scripts.start: for "node server.js", ./server.js) instead, with that file's own arguments.\n`,
    );
  });

  // Before: every command was quoted as "<command> start": script: 'npx', args: 'next start -p 3000' said "npx start",
  // and clusterkit run npx next start said Unexpected argument "next" (with --flag, Unknown option --flag).
  it('[H128][H136][H143] quotes the command PM2 would run with its arguments, npx included, from a config file and from the command line (exit 2)', async () => {
    const runtime = runtimeDir();
    const project = tempProject({
      'ecosystem.config.cjs': `module.exports = { apps: [{ name: 'nextapp', script: 'npx', args: 'next start -p 3000' }, { name: 'dev', script: 'npm', args: 'run dev' }] };\n`,
      // The hint names the link only where it is (H143).
      'node_modules/.bin/next': '',
      'node_modules/.bin/some-tool': '',
    });
    const hint = (command: string, where: string, args = '') =>
      `clusterkit runs a Node script, not a command from PATH. Name the file "${command}" runs ${where}instead, with that file's own arguments${args}.\n`;
    const npx = hint('npx next start -p 3000', '(node_modules/.bin/next links to it) ', ' (start -p 3000)');
    const config = await cli(['run', 'ecosystem.config.cjs'], { runtime, cwd: project });
    expect(config.code).toBe(2);
    const stderr = withoutLoadingNotice(config.stderr);
    expect(stderr).toContain(`  - app "nextapp": "apps[0].script": script not found: ${join(project, 'npx')}: ${npx}`);
    expect(stderr).toContain(`  - app "dev": "apps[1].script": script not found: ${join(project, 'npm')}: ${hint('npm run dev', `(package.json's scripts.dev: for "node server.js", ./server.js) `)}`);
    const lines: Array<[string[], string]> = [
      [['npx', 'next', 'start', '-p', '3000'], npx],
      [['npx', '--', 'next', 'start', '-p', '3000'], npx],
      [['npx', 'some-tool', '--flag'], hint('npx some-tool --flag', '(node_modules/.bin/some-tool links to it) ', ' (--flag)')],
      [['node', 'server.js', '--port', '3'], hint('node server.js --port 3', '(server.js) ')],
      // [H136] A tool that runs the script: the script itself, with clusterkit's equivalent (before:
      // "name node_modules/.bin/tsx", which forked tsx as every worker and crash-looped on EADDRINUSE).
      [['npx', 'tsx', 'src/index.ts'], 'clusterkit runs a Node script, not a command from PATH. tsx runs a script in a Node process of its own, outside the cluster: run the script itself instead, clusterkit run src/index.ts --node-arg=--import=tsx.\n'],
      [['npx', 'tsx', 'watch', 'src/index.ts', '--port', '3'], 'clusterkit runs a Node script, not a command from PATH. tsx runs a script in a Node process of its own, outside the cluster: run the script itself instead, clusterkit run src/index.ts --node-arg=--import=tsx --watch -- --port 3.\n'],
      [['npx', 'nodemon', 'server.js'], 'clusterkit runs a Node script, not a command from PATH. nodemon runs a script in a Node process of its own, outside the cluster: run the script itself instead, clusterkit run server.js --watch.\n'],
    ];
    const results = await Promise.all(lines.map(([args]) => cli(['run', ...args], { runtime, cwd: project })));
    results.forEach((result, index) => {
      const [args, expected] = lines[index]!;
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect(result.stderr).toContain(`(relative to the current directory; with --cwd <dir>, to that directory first): ${expected}`);
    });
    // [H143] Without "--", every word after the command is the command's, as typed, though
    // clusterkit has options of those names (before: -c 10 and -w src/index.ts were taken as
    // --config and --workers, and --watch took src/index.ts as a path to watch, losing the tool).
    // No link is named for a tool not installed.
    const own: Array<[string[], string]> = [
      [['npx', 'autocannon', '-c', '10', 'http://127.0.0.1:4101'], hint('npx autocannon -c 10 http://127.0.0.1:4101', '', ' (-c 10 http://127.0.0.1:4101)')],
      [['-w', '2', 'npx', 'some-tool', '-w', '3', '--name', 'x'], hint('npx some-tool -w 3 --name x', '(node_modules/.bin/some-tool links to it) ', ' (-w 3 --name x)')],
      [['npx', 'tsx', '-w', 'src/index.ts'], 'clusterkit runs a Node script, not a command from PATH. tsx runs a script in a Node process of its own, outside the cluster: run the script itself instead, clusterkit run src/index.ts --node-arg=--import=tsx.\n'],
      [['npx', 'tsx', '--watch', 'src/index.ts'], 'clusterkit runs a Node script, not a command from PATH. tsx runs a script in a Node process of its own, outside the cluster: run the script itself instead, clusterkit run src/index.ts --node-arg=--import=tsx --watch.\n'],
    ];
    const ownResults = await Promise.all(own.map(([args]) => cli(['run', ...args], { runtime, cwd: project })));
    ownResults.forEach((result, index) => {
      const [args, expected] = own[index]!;
      expect({ args, code: result.code }).toEqual({ args, code: 2 });
      expect({ args, stderr: result.stderr }).toEqual({ args, stderr: expect.stringContaining(`(relative to the current directory; with --cwd <dir>, to that directory first): ${expected}`) });
    });
    // With "--", the options before it are clusterkit's, and their own mistake is what is said.
    expect((await cli(['run', 'npm', '-i', '4', '--', 'start'], { runtime, cwd: project })).stderr).toMatch(/^clusterkit: Unknown option -i\. PM2's -i is -w/);
  });

  it('[H64] runs the apps of a config file named in place of a script, each in its own primary, and one app by name after it', async () => {
    const runtime = runtimeDir();
    const [apiPort, jobsPort] = [await freePort(), await freePort()];
    const project = tempProject({
      'server.mjs': kServer,
      'ecosystem.config.cjs': `module.exports = { apps: [
  { name: 'api', script: './server.mjs', workers: 2, env: { PORT: ${apiPort}, ROLE: 'api' } },
  { name: 'jobs', script: './server.mjs', workers: 1, env: { PORT: ${jobsPort}, ROLE: 'jobs' } },
] };\n`,
    });
    const run = startCli(['run', 'ecosystem.config.cjs', '--env', 'FROM=flag'], { runtime, cwd: project });
    await run.waitFor(/service api started: 2 workers/);
    await run.waitFor(/service jobs started: 1 worker/);
    expect(run.stderr().startsWith(notice('ecosystem.config.cjs', '.config.cjs'))).toBe(true);
    for (const [port, role] of [[apiPort, 'api'], [jobsPort, 'jobs']] as const) {
      const answer = JSON.parse((await get(`http://127.0.0.1:${port}/?vars=ROLE,FROM`)).body) as { env: Record<string, string> };
      expect(answer.env).toEqual({ ROLE: role, FROM: 'flag' });
    }
    process.kill(run.child.pid!, 'SIGINT');
    await expect(run.exited()).resolves.toBe(0);
    expect(run.output()).toMatch(/\[api\] shutdown complete graceful=2 failed=0 killed=0/);
    expect(run.output()).toMatch(/\[jobs\] shutdown complete graceful=1 failed=0 killed=0/);

    // One app, named after the file (PM2's --only), flags over the file.
    const one = startCli(['run', 'ecosystem.config.cjs', 'jobs', '-w', '2'], { runtime, cwd: project });
    await one.waitFor(/\[jobs\] service jobs started: 2 workers/);
    expect(one.output()).not.toMatch(/service api/);
    expect((await cli(['stop', 'jobs'], { runtime })).code).toBe(0);
    await expect(one.exited()).resolves.toBe(0);
  });

  it('[H64] says what is wrong around a config file named in place of a script (exit 2)', async () => {
    const runtime = runtimeDir();
    const project = tempProject({
      'server.mjs': kServer,
      'ecosystem.config.json': '{ "apps": [{ "name": "api", "script": "server.mjs" }] }',
      'ecosystem.yml': 'apps:\n  - script: server.mjs\n',
      'app.config.js': "require('node:http').createServer().listen(0);\n",
    });
    const cases: Array<[string[], RegExp]> = [
      [['run', 'ecosystem.config.json', 'web'], /^clusterkit: "web" is neither a script nor an app of \S+ecosystem\.config\.json \(apps: api\)\.\n/m],
      [['run', 'ecosystem.config.json', 'server.mjs'], /After a config file, name an app of it; to run the script, name it alone: clusterkit run server\.mjs\.\n/],
      [['run', 'ecosystem.config.json', 'api', 'extra'], /^clusterkit: Unexpected argument "extra"\./],
      [['run', 'ecosystem.yml'], /^clusterkit: ecosystem\.yml is a YAML config file \(PM2 reads a file named \*\.yml as one\); clusterkit reads config files in TypeScript, JavaScript or JSON: .* run clusterkit run ecosystem\.json\.\n/],
      // A script named like a config is read as one, and the line above the error says why.
      [['run', 'app.config.js'], /^clusterkit: reading app\.config\.js as a config file .*; to run a script of that name, rename it\.\nclusterkit: \S+app\.config\.js: "apps" must be a non-empty array of apps\. It is missing \(undefined\): pass it\.\n/m],
      // Not there: a config file not found (H465: "Script not found" before), with the config files that are there.
      [['run', 'missing.config.js'], /^clusterkit: No such config file: \S+missing\.config\.js \(a name ending in \.config\.js is read as a config file, as in PM2\)\. \S+ has \S+app\.config\.js, \S+ecosystem\.config\.json: name one of them/],
    ];
    const results = await Promise.all(cases.map(([args]) => cli(args, { runtime, cwd: project })));
    results.forEach((result, index) => {
      expect({ index, code: result.code }).toEqual({ index, code: 2 });
      expect(withoutLoadingNotice(result.stderr)).toMatch(cases[index]![1]);
    });
    expect(results[0]!.stderr.startsWith(notice('ecosystem.config.json', '.json'))).toBe(true);
    expect(results[3]!.stderr).not.toMatch(/reading/);
  });

  it('[H64] warns, from one worker, when a script is a config file in disguise (it exports { apps }), CommonJS or ESM', async () => {
    const runtime = runtimeDir();
    const project = tempProject({
      'server.mjs': kServer,
      'ecosystem.js': "module.exports = { apps: [{ name: 'eco', script: './server.mjs' }] };\n",
      'apps.mjs': "export default { apps: [{ script: './server.mjs' }] };\n",
    });
    for (const [script, name] of [['ecosystem.js', 'ecosystem'], ['apps.mjs', 'apps']] as const) {
      const run = startCli(['run', script, '-w', '2'], { runtime, cwd: project });
      const warning = `clusterkit: ${script} exports { apps: [...] }: it is a config file, not a script, and its apps are not started. Stop this and run them with: clusterkit run -c ${script}\n`;
      await run.waitFor(new RegExp(`service ${name} started: 2 workers`));
      await run.waitFor(new RegExp(`\\[${name}:\\d+ err\\] ${warning.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`));
      process.kill(run.child.pid!, 'SIGINT');
      await expect(run.exited()).resolves.toBe(0);
      expect(run.output().split(warning).length - 1).toBe(1);
    }
  });
  it('[H465] a config file named that does not exist is "No such config file" (exit 2), not a complaint about the directory\'s clusterkit.config.mjs', async () => {
    const runtime = runtimeDir();
    const project = tempProject({
      'server.mjs': kServer,
      'clusterkit.config.mjs': `export default { apps: [{ name: 'here', script: './server.mjs' }] };\n`,
    });
    const results = await Promise.all([
      cli(['run', 'ecosystem.config.js', '--env', 'production'], { runtime, cwd: project }),
      cli(['run', 'ecosystem.config.js'], { runtime, cwd: project }),
      cli(['run', 'apps.json', 'here'], { runtime, cwd: project }),
    ]);
    for (const [result, typed, ending] of [
      [results[0]!, 'ecosystem.config.js', '.config.js'],
      [results[1]!, 'ecosystem.config.js', '.config.js'],
      [results[2]!, 'apps.json', '.json'],
    ] as const) {
      expect(result.code).toBe(2);
      // Before: "no app of .../clusterkit.config.mjs has env_production", or "neither a script nor an app of" it.
      expect(result.stderr).toMatch(new RegExp(`^clusterkit: No such config file: ${join(project, typed).replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')} \\(a name ending in \\${ending} is read as a config file`));
      expect(result.stderr).not.toMatch(/env_production|neither a script nor an app/);
      expect(result.stderr).toContain(`${project} has ${join(project, 'clusterkit.config.mjs')}: name one of them`);
    }
  });
});
