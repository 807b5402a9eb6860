/**
 * [H524] A config file's bad variables are reported with the file's other problems, one line
 * each, in one run (docs/config.md, "Mistakes"). Before, an `env` stopped at its first bad
 * variable: a tester's file with three needed three runs, and with 16 other mistakes the run
 * listed none of its bad names. The same for a PM2 `env_<name>`, an `envFile`'s lines, a list's
 * entries, and the checks of the merged settings (watched paths, the worker maximum), which
 * stopped at the first app's first problem.
 */
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { cleanUpCli, cli, runtimeDir, tempProject } from './cli-process.js';

afterEach(() => cleanUpCli());

/** Never started: every run here is refused before anything forks. */
const kServer = "require('node:http').createServer((q, r) => r.end('ok')).listen(Number(process.env.PORT));\n";

const kUsage = 'Usage: clusterkit run [<script> | <app>] [options] [-- script args]\nRun "clusterkit run --help" for the options and examples.\n';

/** stderr without the lines said before the check (`reading ... as a config file`, a slow load's notice). */
function problemsOf(stderr: string): string {
  return stderr.replace(/^clusterkit: (?:reading .* as a config file .*|loading .*\.\.\. \(waiting for its default export; giving up after \d+ s\))\n/gm, '');
}

function listed(headline: string, problems: readonly string[]): string {
  return `clusterkit: ${headline}${problems.length} problems:\n${problems.map((problem) => `  - ${problem}\n`).join('')}${kUsage}`;
}

const kNotAName = 'is not a variable name (letters, digits and _, not starting with a digit).';

describe('a config file\'s bad variables, all in one run', () => {
  it('[H524] the tester\'s file: each bad name and value of "env" is a line of its own, in one run, exit 2', async () => {
    const runtime = runtimeDir();
    const project = tempProject({
      'server.js': kServer,
      'cfg/server.js': kServer,
      'cfg/c2.config.json': '{ "apps": [ { "name": "hx2", "script": "./server.js", "workers": 1,\n  "env": {"PORT": 41932, "A=B": "1", "": "e", "NUL": "a\\u0000b"} } ] }\n',
    });
    const result = await cli(['run', 'c2.config.json'], { runtime, cwd: join(project, 'cfg') });
    expect(result.code).toBe(2);
    expect(problemsOf(result.stderr)).toBe(
      listed(`${join(project, 'cfg/c2.config.json')}: `, [`"apps[0].env": "A=B" ${kNotAName}`, `"apps[0].env": "" ${kNotAName}`, '"apps[0].env": the value of NUL contains a NUL byte (U+0000, at character 2), which no variable can hold.']),
    );
    expect(result.stdout).toBe('');
  });

  it('[H524] bad variables beside the file\'s other mistakes: "env", every "env_<name>", each bad line of the envFile and each bad list entry, in a PM2 file and in clusterkit\'s', async () => {
    const runtime = runtimeDir();
    const project = tempProject({
      'server.js': kServer,
      // Lines 2, 3, 4, 6, 7, 8 and 11 are refused; 1 and 5 are fine; 9 and 10 are the quoted value of line 8, not lines of their own.
      'bad.env': 'GOOD=1\nDB_PASSWORD: hunter2\n=x\n1BAD=2\nexport OK=3\nQ="a" trailing\n__proto__=1\n2X="multi\nline: of the value\nend"\n9Z=1\n',
      'ecosystem.config.cjs': `module.exports = { apps: [{
  name: 'e1', script: './server.js', instances: 'lots', kill_timeout: 'soon', wrkers: 2,
  env: { 'A B': 1, OK: 'x', N: 'a\\0b', O: [1] },
  env_production: { 'X=Y': 1, Z: {} },
  env_staging: { '9': 'x' },
  envFile: './bad.env',
  node_args: ['--a', 5, ''],
}] };\n`,
      'clusterkit.config.json': JSON.stringify({
        apps: [
          {
            name: 'c1', script: './server.js', workers: 0, shutdownTimeout: '10x', logFormat: 'xml',
            env: { PORT: 1, 'A=B': '1', '': 'e', NUL: 'a\u0000b', OBJ: [1] },
            args: [1, '--ok', null],
          },
        ],
        services: 1,
      }),
    });
    const [pm2, own] = await Promise.all([cli(['run', 'ecosystem.config.cjs'], { runtime, cwd: project }), cli(['run'], { runtime, cwd: project })]);
    const envFile = `"apps[0].envFile" ${join(project, 'bad.env')}`;
    expect(pm2.code).toBe(2);
    expect(problemsOf(pm2.stderr)).toBe(
      listed(
        `${join(project, 'ecosystem.config.cjs')}: `,
        [
          '"apps[0].instances" must be a whole number or "max", as PM2 takes it: 4, "max" or 0 (one per CPU), -1 (every CPU but one). Received "lots".',
          `"apps[0].env_production": "X=Y" ${kNotAName}`,
          '"apps[0].env_production.Z" must be a string, a number or a boolean. Received an object.',
          `"apps[0].env_staging": "9" ${kNotAName}`,
          'Unknown key "apps[0].wrkers". Did you mean "workers"?',
          `${envFile} line 2: "DB_PASSWORD: …" is not NAME=value: write NAME=value, start the line with # to make it a comment, or remove it.`,
          `${envFile} line 3: "=…" has no variable name before "="; write NAME=value, or remove the line.`,
          `${envFile} line 4: the line (not shown: it may hold a value) does not start with a variable name (letters, digits and _, not starting with a digit) followed by "=": write NAME=value.`,
          `${envFile} line 6: the value of Q has text after its closing " quote, which Node's env-file parser drops (it keeps only what the quotes enclose). Quote the whole value (a " inside it needs another kind of quote around it: '), or start a comment with #.`,
          `${envFile} line 7: "__proto__" cannot be a variable name here (JavaScript objects treat it apart); rename it.`,
          `${envFile} line 8: the line (not shown: it may hold a value) does not start with a variable name (letters, digits and _, not starting with a digit) followed by "=": write NAME=value.`,
          `${envFile} line 11: the line (not shown: it may hold a value) does not start with a variable name (letters, digits and _, not starting with a digit) followed by "=": write NAME=value.`,
          `"apps[0].env": "A B" ${kNotAName}`,
          '"apps[0].env": the value of N contains a NUL byte (U+0000, at character 2), which no variable can hold.',
          '"apps[0].env.O" must be a string, a number or a boolean. Received an array.',
          '"apps[0].kill_timeout" must be a duration such as 10s, 500ms or 2m (a number is milliseconds). Received "soon".',
          '"apps[0].node_args[1]" must be a non-empty string. Received 5.',
          '"apps[0].node_args[2]" must be a non-empty string. Received "".',
        ].map((problem) => `app "e1": ${problem}`),
      ),
    );
    // The secret of line 2 is never shown.
    expect(pm2.stderr).not.toContain('hunter2');
    expect(own.code).toBe(2);
    expect(problemsOf(own.stderr)).toBe(
      listed(`${join(project, 'clusterkit.config.json')}: `, [
        'Unknown key "services". Known keys: apps.',
        `"apps[0].env": "A=B" ${kNotAName}`,
        `"apps[0].env": "" ${kNotAName}`,
        '"apps[0].env": the value of NUL contains a NUL byte (U+0000, at character 2), which no variable can hold.',
        '"apps[0].env.OBJ" must be a string, a number or a boolean. Received an array.',
        '"apps[0].args[0]" must be a non-empty string. Received 1.',
        '"apps[0].args[2]" must be a non-empty string. Received null.',
        '"apps[0].workers" must be a positive integer, "auto" or "max". Received 0.',
        '"apps[0].shutdownTimeout" must be a duration such as 10s, 500ms or 2m (a number is milliseconds). Received "10x".',
        '"apps[0].logFormat" must be "line" or "json". Received "xml".',
      ]),
    );
    expect([pm2.stdout, own.stdout]).toEqual(['', '']);
  });

  it('[H524] the checks of the merged settings say every problem of every app in one run, each named by its app; one app\'s alone as before', async () => {
    const runtime = runtimeDir();
    const project = tempProject({
      'server.js': kServer,
      'clusterkit.config.json': JSON.stringify({
        apps: [
          { name: 'l1', script: './server.js', watch: ['nope1', 'nope2'], workers: 9, maxWorkers: 2 },
          { name: 'l2', script: './server.js', watch: ['nope3'] },
        ],
      }),
    });
    const [all, one] = await Promise.all([cli(['run'], { runtime, cwd: project }), cli(['run', 'l2'], { runtime, cwd: project })]);
    const missing = (name: string) => `watch in clusterkit.config.json: no such file or directory: ${join(project, name)}`;
    expect(all.code).toBe(2);
    expect(problemsOf(all.stderr)).toBe(
      listed('', [
        `app "l1": ${missing('nope1')}`,
        `app "l1": ${missing('nope2')}`,
        'app "l1": 9 workers is more than the maximum, 2 (from --max-workers or "maxWorkers"); raise it with --max-workers (or "maxWorkers" in the config file) to run more.',
        `app "l2": ${missing('nope3')}`,
      ]),
    );
    expect(one.code).toBe(2);
    expect(problemsOf(one.stderr)).toBe(`clusterkit: ${missing('nope3')}\n${kUsage}`);
    expect([all.stdout, one.stdout]).toEqual(['', '']);
  });
});
