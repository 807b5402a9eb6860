/**
 * [H12] Files the CLI is given are not trusted to be what their names say: an env file, a
 * config file or a script may be a FIFO, a device, a directory or far too large, and a config
 * may never finish loading. Each is a usage error (exit 2) naming the file, never a hang, a
 * process that grows until it dies, or a silent wait.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { readSmallFile } from '../../src/cli/read-small-file.js';
import { UsageError } from '../../src/cli/usage-error.js';
import { cleanUpCli, cli, runtimeDir, tempProject } from './cli-process.js';

afterEach(() => cleanUpCli());

const kIdle = 'setInterval(() => {}, 1 << 30);\n';
const kLarge = `A=${'x'.repeat(1024 * 1024)}\n`;

function fifoIn(directory: string, name: string): string {
  const path = join(directory, name);
  execFileSync('mkfifo', [path]);
  return path;
}

describe('[H12] files the CLI reads', () => {
  it('[H12] reads a small regular file only: a FIFO, a device, a directory or more than the limit is a usage error naming it', () => {
    const project = tempProject({ 'ok.env': 'A=1\n', 'large.env': kLarge });
    const fifo = fifoIn(project, 'pipe.env');
    expect(readSmallFile(join(project, 'ok.env'), 1024, '--env-file')).toBe('A=1\n');
    const refused = (path: string) => {
      try {
        readSmallFile(path, 1024 * 1024, '--env-file');
      } catch (error) {
        expect(error).toBeInstanceOf(UsageError);
        return (error as Error).message;
      }
      throw new Error(`${path} was read`);
    };
    // Before: the FIFO blocked the process until a writer came; /dev/zero grew it past 2.7 GB.
    expect(refused(fifo)).toBe(`--env-file: ${fifo} is not a regular file (it is a FIFO); name a file.`);
    expect(refused('/dev/zero')).toBe('--env-file: /dev/zero is not a regular file (it is a character device); name a file.');
    expect(refused(project)).toBe(`--env-file: ${project} is not a regular file (it is a directory); name a file.`);
    expect(refused(join(project, 'large.env'))).toBe(`--env-file: ${join(project, 'large.env')} is larger than 1 MiB, the limit for this file.`);
    expect(refused(join(project, 'none.env'))).toBe(`--env-file: cannot read ${join(project, 'none.env')} (ENOENT).`);
  });

  it('[H12] refuses an envFile of the config file, or --env-file, that is a FIFO, a device or too large (exit 2)', async () => {
    const runtime = runtimeDir();
    const withEnvFile = (envFile: string, extra: Record<string, string> = {}) =>
      tempProject({ 'idle.mjs': kIdle, 'clusterkit.config.json': JSON.stringify({ apps: [{ script: 'idle.mjs', envFile }] }), ...extra });
    const fifoProject = withEnvFile('pipe.env');
    fifoIn(fifoProject, 'pipe.env');
    const cases: Array<[string, string[], RegExp]> = [
      [withEnvFile('/dev/zero'), ['run'], /"apps\[0\]\.envFile": \/dev\/zero is not a regular file \(it is a character device\)/],
      [fifoProject, ['run'], /"apps\[0\]\.envFile": \S+\/pipe\.env is not a regular file \(it is a FIFO\)/],
      [withEnvFile('large.env', { 'large.env': kLarge }), ['run'], /"apps\[0\]\.envFile": \S+\/large\.env is larger than 1 MiB/],
      // Node 20 reads --env-file itself wherever it stands (nodejs/node#54232): a FIFO or a
      // device would hold or kill node before clusterkit runs; a large regular file reaches us.
      [tempProject({ 'idle.mjs': kIdle, 'large.env': kLarge }), ['run', 'idle.mjs', '--env-file', 'large.env'], /^clusterkit: --env-file: \S+\/large\.env is larger than 1 MiB/],
    ];
    const results = await Promise.all(cases.map(([cwd, args]) => cli(args, { runtime, cwd })));
    results.forEach((result, index) => {
      expect({ index, code: result.code }).toEqual({ index, code: 2 });
      expect(result.stderr).toMatch(cases[index]![2]);
      expect(result.stderr).toContain('Usage: clusterkit run');
    });
  });

  it('[H12][H596] says a script or a config that is not a regular file is not one (not "not found"), nor a link to nothing', async () => {
    const runtime = runtimeDir();
    const project = tempProject({ 'idle.mjs': kIdle });
    // Hostile t60, before: a link to nothing, or a loop of links, was no config ("put a clusterkit.config.ts in ..."), or "not found" with --config.
    const brokenLink = tempProject({ 'idle.mjs': kIdle });
    symlinkSync('/nonexistent-ck.json', join(brokenLink, 'clusterkit.config.json'));
    const linkLoop = tempProject({ 'idle.mjs': kIdle });
    symlinkSync(join(linkLoop, 'b.json'), join(linkLoop, 'clusterkit.config.json'));
    symlinkSync(join(linkLoop, 'clusterkit.config.json'), join(linkLoop, 'b.json'));
    mkdirSync(join(project, 'dir.mjs'));
    const fifoConfig = tempProject({ 'idle.mjs': kIdle });
    fifoIn(fifoConfig, 'clusterkit.config.mjs');
    writeFileSync(join(project, 'c.json'), JSON.stringify({ apps: [{ script: '/dev/null' }] }));
    const cases: Array<[string[], string, RegExp]> = [
      [['run', '/dev/zero'], project, /^clusterkit: The script \/dev\/zero is not a regular file \(it is a character device\); name the file your workers run\./],
      [['run', 'dir.mjs'], project, /^clusterkit: The script \S+\/dir\.mjs is not a regular file \(it is a directory\)/],
      [['run', '--config', '/dev/zero'], project, /^clusterkit: The config file \/dev\/zero is not a regular file \(it is a character device\)\./],
      [['run'], fifoConfig, /^clusterkit: The config file \S+\/clusterkit\.config\.mjs is not a regular file \(it is a FIFO\)\./],
      [['run', '--config', 'c.json'], project, /"apps\[0\]\.script": not a regular file: \/dev\/null/],
      [['run'], brokenLink, /^clusterkit: The config file \S+\/clusterkit\.config\.json is a symbolic link to "\/nonexistent-ck\.json", which does not exist; point it at the config file, or remove it\./],
      [['run', '--config', 'clusterkit.config.json'], brokenLink, /^clusterkit: The config file \S*clusterkit\.config\.json is a symbolic link to "\/nonexistent-ck\.json", which does not exist/],
      [['run'], linkLoop, /^clusterkit: The config file \S+\/clusterkit\.config\.json is a symbolic link in a loop of links; point it at the config file, or remove it\./],
    ];
    const results = await Promise.all(cases.map(([args, cwd]) => cli(args, { runtime, cwd })));
    results.forEach((result, index) => {
      expect({ index, code: result.code }).toEqual({ index, code: 2 });
      expect(result.stderr).toMatch(cases[index]![2]);
    });
  });

  it('[H12] gives up on a config that never finishes loading, naming the file, even a loop at its top level (exit 2)', async () => {
    const runtime = runtimeDir();
    const cases: Array<[string, RegExp]> = [
      // Before: each of these waited forever without a word (a loop), or 30 s.
      ['while (true) {}\n', /did not finish loading within 10 s: a loop at its top level, or a default export that waits/],
      ['export default new Promise(() => { setInterval(() => {}, 1000); });\n', /did not finish loading within 10 s/],
      ['export default new Promise(() => {});\n', /never finishes loading: its default export is a promise that nothing can settle any more/],
      ['process.exit(3);\n', /: it called process\.exit\(3\) while loading\./],
    ];
    const projects = cases.map(([config]) => tempProject({ 'idle.mjs': kIdle, 'clusterkit.config.mjs': config }));
    const results = await Promise.all(projects.map((cwd) => cli(['run'], { runtime, cwd, ms: 30_000 })));
    results.forEach((result, index) => {
      expect({ index, code: result.code }).toEqual({ index, code: 2 });
      expect(result.stderr).toContain(join(projects[index]!, 'clusterkit.config.mjs'));
      expect(result.stderr).toMatch(cases[index]![1]);
    });
    // The silence is broken while it waits.
    expect(results[0]!.stderr).toMatch(/^clusterkit: loading \S+clusterkit\.config\.mjs\.\.\. \(waiting for its default export; giving up after 10 s\)\n/);
  }, 60_000);
});

describe('[H13] config values that cannot be read', () => {
  it('[H562][H566] a value that cannot be read is one problem among the others: every problem of the file in one run', async () => {
    const runtime = runtimeDir();
    const config =
      'export default { apps: [\n' +
      "  { script: 'idle.mjs', name: 'a0', get env() { throw new Error('vault sealed'); } },\n" +
      "  { script: 'idle.mjs', name: 'a1', workers: NaN },\n" +
      "  { name: 'a2', get script() { throw new Error('script boom'); }, maxMemory: -5 },\n" +
      "  { script: 'idle.mjs', name: 'a3', env: { get TOKEN() { throw 'no vault'; }, 'BAD NAME': 'y' } },\n" +
      "  { script: 'idle.mjs', name: 'a\\u0000b' },\n" +
      "  { __proto__: { script: 'idle.mjs', name: 'inherited' } },\n" +
      "  { script: 'idle.mjs', name: 'a6', env: Object.create({ INHERITED: 'yes' }) },\n" +
      '] };\n';
    const result = await cli(['run'], { runtime, cwd: tempProject({ 'idle.mjs': kIdle, 'clusterkit.config.mjs': config }) });
    expect(result.code).toBe(2);
    // Before (hostile t58): the first getter's line alone.
    expect(result.stderr).toContain('clusterkit.config.mjs: 9 problems:\n');
    for (const problem of [
      '"apps[0].env" cannot be read (its getter threw): Error: vault sealed',
      '"apps[2].script" cannot be read (its getter threw): Error: script boom',
      '"apps[3].env.TOKEN" cannot be read (its getter threw): no vault',
      '"apps[1].workers" must be a positive integer',
      '"apps[2].maxMemory" must be a memory size',
      '"apps[3].env": "BAD NAME" is not a variable name',
      // [H566] Which of the two (before: "is longer than 131071 characters or contains a NUL byte").
      '"apps[4].name" contains a NUL byte (U+0000, at character 2)',
      // Before: "Received an object." for an object whose keys are inherited.
      '"apps[5]" must be an object with at least "script". Received an object that is not a plain one (its keys inherited from a prototype, or a class instance)',
      // One level down (retest t58): accepted before, and the workers got none of its variables.
      '"apps[6].env" must be a plain object of variables',
    ]) {
      expect(result.stderr).toContain(`  - ${problem}`);
    }
  });

  it('[H577] labels an unreadable value of a named PM2 app with the app, as its other problems are', async () => {
    const config = "module.exports = { apps: [{ name: 'api', script: 'idle.mjs', get env() { throw new Error('vault sealed'); }, instances: 'x' }] };\n";
    const result = await cli(['run', 'ecosystem.config.cjs'], { runtime: runtimeDir(), cwd: tempProject({ 'idle.mjs': kIdle, 'ecosystem.config.cjs': config }) });
    expect(result.code).toBe(2);
    // Before: '  - "apps[0].env" cannot be read ...' beside '  - app "api": "apps[0].instances" ...'.
    expect(result.stderr).toContain('  - app "api": "apps[0].env" cannot be read (its getter threw): Error: vault sealed\n');
    expect(result.stderr).toContain('  - app "api": "apps[0].instances" must be');
  });

  it('[H583] refuses a JSON config that gives a key twice in one object, with its line; the same key in two objects is fine', async () => {
    const runtime = runtimeDir();
    const twice = '{ "apps": [\n  { "name": "d1", "script": "idle.mjs", "workers": 1, "env": { "A": "1" } },\n  { "name": "d2", "script": "idle.mjs",\n    "workers": 1, "workers": 2 } ] }\n';
    const inEnv = '{ "apps": [ { "name": "d3", "script": "idle.mjs",\n "env": { "TOKEN": "a", "TOKEN": "b" } } ] }\n';
    const [first, second] = await Promise.all([twice, inEnv].map((config) => cli(['run'], { runtime, cwd: tempProject({ 'idle.mjs': kIdle, 'clusterkit.config.json': config }) })));
    // Before (retest t59): "starting 2 workers", the first "workers" dropped without a word.
    expect(first).toMatchObject({ code: 2, stderr: expect.stringMatching(/clusterkit\.config\.json gives "workers" twice in one object \(line 4\); JSON would keep the last, and the first may be the one meant: keep one\.\n/) });
    expect(second).toMatchObject({ code: 2, stderr: expect.stringContaining('gives "TOKEN" twice in one object (line 2)') });
  });

  it('[H569] names a built-in kind given where a value or a list was expected (a Set, a Map, a Date), not "an object"', async () => {
    const runtime = runtimeDir();
    const cases: Array<[string, string[]]> = [
      // Before (retest t58): "Received an object." for a Set of apps.
      ["export default { apps: new Set([{ script: 'idle.mjs' }]) };", ['"apps" must be a non-empty array of apps. Received a Set.']],
      [
        "export default { apps: [{ script: 'idle.mjs', env: { A: new Map(), B: new Date(0), C: /x/, D: new Uint8Array(2), E: new (class Vault {})() } }] };",
        ['"apps[0].env.A" must be a string, a number or a boolean. Received a Map.', '"apps[0].env.B" must be a string, a number or a boolean. Received a Date.', '"apps[0].env.C" must be a string, a number or a boolean. Received a RegExp.', '"apps[0].env.D" must be a string, a number or a boolean. Received a Uint8Array.', '"apps[0].env.E" must be a string, a number or a boolean. Received an object.'],
      ],
      // Retest t59: boxed values, and an env not awaited, read "an object".
      [
        "export default { apps: [{ script: 'idle.mjs', name: 'boxed', workers: new Number(2) }, { script: 'idle.mjs', name: 'later', env: Promise.resolve({ A: '1' }) }] };",
        ['Received a Number object.', '"apps[1].env" must be a plain object of variables, as in { PORT: \'3000\' }. Received a Promise: await it (env: await loadEnv()).'],
      ],
    ];
    const projects = cases.map(([config]) => tempProject({ 'idle.mjs': kIdle, 'clusterkit.config.mjs': config }));
    const results = await Promise.all(projects.map((cwd) => cli(['run'], { runtime, cwd })));
    results.forEach((result, index) => {
      expect({ index, code: result.code }).toEqual({ index, code: 2 });
      for (const problem of cases[index]![1]) expect(result.stderr).toContain(problem);
    });
  });

  it('[H13][H576] names the file and the key path of a getter or a Proxy trap that throws (exit 2, not a bare message with exit 1)', async () => {
    const runtime = runtimeDir();
    const cases: Array<[string, string]> = [
      ["export default { get apps() { throw new Error('getter boom'); } };", '"apps" cannot be read (its getter threw): Error: getter boom'],
      ["export default { apps: [{ name: 'g1', get script() { throw new Error('script boom'); } }] };", '"apps[0].script" cannot be read (its getter threw): Error: script boom'],
      ["export default { apps: [{ script: 'idle.mjs', env: { get TOKEN() { throw 'no vault'; } } }] };", '"apps[0].env.TOKEN" cannot be read (its getter threw): no vault'],
      ["export default { apps: [new Proxy({}, { ownKeys() { throw new Error('ownKeys boom'); } })] };", '"apps[0]" cannot be read (listing its keys threw): Error: ownKeys boom'],
      // [H576] Before: "(its getter threw)" of a Proxy's get trap.
      ["export default { apps: [new Proxy({ script: 'idle.mjs' }, { get() { throw new Error('trap boom'); } })] };", '"apps[0].script" cannot be read (its Proxy\'s get trap threw): Error: trap boom'],
      ["const { proxy, revoke } = Proxy.revocable({}, {}); revoke(); export default { apps: [proxy] };", '"apps[0]" cannot be read (checking whether it is an array threw): TypeError:'],
      ["export default new Proxy({}, { get() { throw new Error('trap boom'); } });", 'its default export cannot be read (reading "then" threw): Error: trap boom'],
      ["const app = { script: 'idle.mjs' }; app.env = { self: app }; export default { apps: [app] };", '"apps[0].env.self" must be a string, a number or a boolean. Received an object.'],
    ];
    const projects = cases.map(([config]) => tempProject({ 'idle.mjs': kIdle, 'clusterkit.config.mjs': config }));
    const results = await Promise.all(projects.map((cwd) => cli(['run'], { runtime, cwd })));
    results.forEach((result, index) => {
      expect({ index, code: result.code }).toEqual({ index, code: 2 });
      expect(result.stderr).toContain(join(projects[index]!, 'clusterkit.config.mjs'));
      expect(result.stderr).toContain(cases[index]![1]);
      expect(result.stderr).toContain('Usage: clusterkit run');
    });
  });
});
