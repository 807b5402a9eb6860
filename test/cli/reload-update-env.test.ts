/**
 * `clusterkit reload <name> --update-env` (H336, newcomer t34 M1): a changed `.env`
 * (`--env-file`) or config `env` / `env_<name>` applied with no downtime, as PM2's
 * `pm2 reload ecosystem.config.js --env production --update-env`. Before, only a full restart
 * applied it. The CLI binary run directly, with real workers and a real load.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { watch } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { freePort } from '../helpers/ports.js';
import { isAlive } from '../helpers/processes.js';
import { killSpawned, spawnScript } from '../helpers/spawn.js';
import { cleanUpCli, cli, readyPids, runtimeDir, startCli, tempProject } from './cli-process.js';

afterEach(() => {
  killSpawned();
  cleanUpCli();
});

const kServer = "import http from 'node:http';\nhttp.createServer((q, r) => r.end(process.env.GREETING ?? 'none')).listen(Number(process.env.PORT), '127.0.0.1');\n";

async function greeting(port: number): Promise<string> {
  return (await fetch(`http://127.0.0.1:${port}/`)).text();
}

/** What every worker answers: several requests, spread over the workers by round robin. */
async function greetings(port: number): Promise<string[]> {
  const answers = new Set<string>();
  for (let request = 0; request < 6; request++) answers.add(await greeting(port));
  return [...answers];
}

describe('clusterkit reload --update-env [H336]', () => {
  it('[H336] an --env-file change: the new workers see it, under load with no failed request; without the flag nothing changes; no value is said', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const project = tempProject({ 'server.mjs': kServer, '.env': 'GREETING=hello\nSECRET=old-secret\n' });
    const run = startCli(['run', 'server.mjs', '--name', 'upenv', '-w', '2', '--env-file', '.env'], { runtime, cwd: project, env: { PORT: String(port) } });
    await run.waitFor(/service upenv started: 2 workers/);
    expect(await greetings(port)).toEqual(['hello']);
    writeFileSync(join(project, '.env'), 'GREETING=bonjour\nSECRET=new-secret\nADDED=1\n');

    // Without the flag, as PM2: the workers keep the env they had.
    const plain = await cli(['reload', 'upenv'], { runtime });
    expect(plain).toMatchObject({ code: 0, stdout: 'reloaded upenv: 2 workers replaced, no request cut off\n' });
    expect(await greetings(port)).toEqual(['hello']);

    const client = spawnScript('test/fixtures/load-client.ts', { args: [String(port), '8', '/', 'close'] });
    await client.waitFor(/^served \d+$/m);
    const reload = await cli(['reload', 'upenv', '--update-env'], { runtime });
    expect(reload).toMatchObject({ code: 0, stdout: 'reloaded upenv: 2 workers replaced, no request cut off; env loaded again from .env: GREETING, SECRET changed; ADDED added\n' });
    client.child.kill('SIGTERM');
    const [line] = await client.waitFor(/\{.*\}/);
    const result = JSON.parse(line) as { ok: number; failed: number; errors: Record<string, number> };
    expect(result.errors).toEqual({});
    expect(result.failed).toBe(0);
    expect(result.ok).toBeGreaterThan(20);
    expect(await greetings(port)).toEqual(['bonjour']);
    await run.waitFor(/rolling reload started: clusterkit reload asked for it \(the control socket\); the new workers start with the updated env \(changed: GREETING, SECRET; added: ADDED\) workers=2/);
    // `show` lists the names in force now.
    expect((await cli(['show', 'upenv'], { runtime })).stdout).toMatch(/ADDED/);
    // Names only: a value may be a secret.
    expect(`${run.output()}${reload.stdout}${reload.stderr}`).not.toMatch(/old-secret|new-secret|bonjour/);

    // A restart after it gets the new env too (the env in force is the reload's).
    expect((await cli(['stop', 'upenv'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  });

  // H391: the waiting key was named maxMemory, clusterkit's key, for the file's max_memory_restart.
  it('[H336][H391] a config env_<name> change with the run\'s --env <name>; a broken config or env file refuses the reload, the old workers serve on', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const configOf = (greeting: string, extra = '') =>
      `module.exports = { apps: [{ name: 'cfgenv', script: './server.mjs', instances: 1, env: { PORT: '${port}', GREETING: 'base' }, env_production: { GREETING: '${greeting}' }${extra} }] };\n`;
    const project = tempProject({ 'server.mjs': kServer, 'ecosystem.config.cjs': configOf('prod-1') });
    const file = join(project, 'ecosystem.config.cjs');
    const run = startCli(['run', 'ecosystem.config.cjs', '--env', 'production'], { runtime, cwd: project });
    await run.waitFor(/service cfgenv started/);
    expect(await greeting(port)).toBe('prod-1');

    // env_production changed, and a setting that waits for a restart.
    writeFileSync(file, configOf('prod-2', ', max_memory_restart: "300M"'));
    const reload = await cli(['reload', 'cfgenv', '--update-env'], { runtime });
    expect(reload).toMatchObject({
      code: 0,
      stdout: 'reloaded cfgenv: 1 worker replaced, no request cut off; env loaded again from ecosystem.config.cjs: GREETING changed; max_memory_restart changed too, and takes effect when clusterkit run restarts\n',
    });
    expect(await greeting(port)).toBe('prod-2');
    await run.waitFor(/clusterkit reload --update-env: ecosystem\.config\.cjs changed max_memory_restart of app cfgenv: it takes effect when clusterkit run restarts; the reload applies the env only/);

    // A config that no longer loads: refused with the loader's error, nothing reloaded.
    const [pid] = readyPids(run).slice(-1);
    writeFileSync(file, configOf('prod-3').replace('apps: [', 'apps: [ oops'));
    const broken = await cli(['reload', 'cfgenv', '--update-env'], { runtime });
    expect(broken.code).toBe(1);
    expect(broken.stderr).toMatch(
      /^clusterkit: reload failed: ecosystem\.config\.cjs does not load: Cannot load the config file \S*ecosystem\.config\.cjs[^\n]*\. The reload is refused and nothing changed: the workers run on with the env they have\. Fix it, then run clusterkit reload cfgenv --update-env again/,
    );
    expect(isAlive(pid!)).toBe(true);
    expect(await greeting(port)).toBe('prod-2');
    expect(run.output().match(/rolling reload started/g)).toHaveLength(1);
    await run.waitFor(/WARN clusterkit reload --update-env refused: ecosystem\.config\.cjs does not load: .* err=ERR_CONFIG_UNLOADABLE/);

    expect((await cli(['stop', 'cfgenv'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  });

  // PM2 migrator t39 M5: `APP_LABEL=from-shell clusterkit reload --update-env` said only "unchanged".
  it('[H400] a variable the config sets that the shell running reload --update-env has with another value: named, with what --update-env reads and how to pass it; its value never said', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const config = `module.exports = { apps: [{ name: 'shellenv', script: './server.mjs', instances: 1, env: { PORT: '${port}', GREETING: process.env.GREETING ?? 'from-config' } }] };\n`;
    const project = tempProject({ 'server.mjs': kServer, 'ecosystem.config.cjs': config });
    const run = startCli(['run', 'ecosystem.config.cjs'], { runtime, cwd: project, env: { GREETING: '' } });
    await run.waitFor(/service shellenv started/);
    expect(await greeting(port)).toBe('');

    // The shell's value, as PM2's --update-env would take it: not read, and said so, by name.
    const shell = await cli(['reload', 'shellenv', '--update-env'], { runtime, cwd: project, env: { GREETING: 'from-shell-secret' } });
    expect(shell).toMatchObject({
      code: 0,
      stdout:
        "reloaded shellenv: 1 worker replaced, no request cut off; env loaded again from ecosystem.config.cjs: unchanged; GREETING has another value in this shell, which --update-env does not read (unlike PM2's): it loads the settings files again, not the shell. Put the value in the app's env in ecosystem.config.cjs, then reload --update-env again\n",
    });
    expect(await greeting(port)).toBe('');
    expect(`${run.output()}${shell.stdout}${shell.stderr}`).not.toContain('from-shell-secret');

    // The same value in the shell: nothing named, and the note that the shell is not read.
    const same = await cli(['reload', 'shellenv', '--update-env'], { runtime, cwd: project, env: { GREETING: '' } });
    expect(same).toMatchObject({
      code: 0,
      stdout: "reloaded shellenv: 1 worker replaced, no request cut off; env loaded again from ecosystem.config.cjs: unchanged (the files only: this shell's variables are not read)\n",
    });

    expect((await cli(['stop', 'shellenv'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  });

  it('[H420] a variable of the cluster\'s own env file that the shell has with another value: the line says to put it in that file, by name, not "or an env file"', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const project = tempProject({ 'server.mjs': kServer, '.env.rt': `PORT=${port}\nGREETING=from-file\n` });
    const run = startCli(['run', 'server.mjs', '--name', 'rtenv', '-w', '1', '--env-file', '.env.rt'], { runtime, cwd: project, env: { GREETING: '' } });
    await run.waitFor(/service rtenv started/);
    const shell = await cli(['reload', 'rtenv', '--update-env'], { runtime, cwd: project, env: { GREETING: 'from-shell-secret' } });
    expect(shell).toMatchObject({
      code: 0,
      // Before: "Put the value in .env.rt or an env file", as if .env.rt were none.
      stdout:
        "reloaded rtenv: 1 worker replaced, no request cut off; env loaded again from .env.rt: unchanged; GREETING has another value in this shell, which --update-env does not read (unlike PM2's): it loads the settings files again, not the shell. Put the value in .env.rt, then reload --update-env again\n",
    });
    expect(await greeting(port)).toBe('from-file');
    expect((await cli(['stop', 'rtenv'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  });

  it('[H336] a broken --env-file refuses the reload with its error, and nothing is reloaded', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const project = tempProject({ 'server.mjs': kServer, 'app.env': 'GREETING=one\n' });
    const run = startCli(['run', 'server.mjs', '--name', 'badenv', '-w', '1', '--env-file', 'app.env'], { runtime, cwd: project, env: { PORT: String(port) } });
    await run.waitFor(/service badenv started/);
    writeFileSync(join(project, 'app.env'), 'GREETING=two\n=oops\n');
    const refused = await cli(['reload', 'badenv', '--update-env'], { runtime });
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^clusterkit: reload failed: app\.env does not load: --env-file \S*app\.env line 2: [^\n]*The reload is refused and nothing changed/);
    expect(await greeting(port)).toBe('one');
    expect(run.output()).not.toMatch(/rolling reload started/);
    expect((await cli(['stop', 'badenv'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  });

  it('[H385] a reload whose new env file sets NODE_OPTIONS to a missing preload: the failure names that preload, not "no preload"', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const project = tempProject({ 'server.mjs': kServer, 'app.env': 'GREETING=one\n' });
    const preload = join(project, 'missing-preload.cjs');
    const run = startCli(['run', 'server.mjs', '--name', 'preenv', '-w', '1', '--env-file', 'app.env'], { runtime, cwd: project, env: { PORT: String(port), NODE_OPTIONS: '' } });
    await run.waitFor(/service preenv started/);
    writeFileSync(join(project, 'app.env'), `GREETING=two\nNODE_OPTIONS=--require ${preload}\n`);
    const failed = await cli(['reload', 'preenv', '--update-env'], { runtime });
    expect(failed.code).toBe(1);
    // Before: `... it ended while still loading (the script itself: ..., with no preload before it: none in --node-arg or NODE_OPTIONS)`: the old env's.
    expect(failed.stderr).toContain(`it ended while still loading (Node's preloads: --require=${preload} from NODE_OPTIONS; then the script itself`);
    expect(failed.stderr).not.toContain('with no preload before it');
    expect(await greeting(port)).toBe('one');
    expect((await cli(['stop', 'preenv'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  });

  it('[H340] a reload whose new workers fail with the new env leaves the old env in force: show, a crash restart and a plain reload use it; the reply says how many started with the new one', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    // With BOOM set, the second worker to start throws: the first replacement serves with it, the second fails.
    const server =
      "import { readFileSync, writeFileSync } from 'node:fs';\n" +
      "if (process.env.BOOM) { const n = Number(readFileSync('count', 'utf8')) + 1; writeFileSync('count', String(n)); if (n >= 2) throw new Error('bad config: BOOM'); }\n" +
      "import http from 'node:http';\nhttp.createServer((q, r) => r.end(process.env.BOOM ?? 'none')).listen(Number(process.env.PORT), '127.0.0.1');\n";
    const project = tempProject({ 'server.mjs': server, '.env': 'GREETING=hi\n', count: '0' });
    const run = startCli(['run', 'server.mjs', '--name', 'failenv', '-w', '2', '--env-file', '.env'], { runtime, cwd: project, env: { PORT: String(port) } });
    await run.waitFor(/service failenv started: 2 workers/);
    writeFileSync(join(project, '.env'), 'GREETING=hi\nBOOM=1\n');
    const failed = await cli(['reload', 'failenv', '--update-env'], { runtime });
    expect(failed.code).toBe(1);
    expect(failed.stderr).toMatch(
      // Slot 0's replacement took over: its progress line comes first (H398).
      /^slot 0: worker \d+ ready, worker \d+ stopped \(1\/2\)\nclusterkit: reload failed: The replacement for worker slot 1 failed to start \([^\n]*bad config: BOOM[^\n]*\), so the reload stopped; 1 of 2 workers were replaced\. The env in force is still the one from before \(every later fork gets it\); 1 worker started with the new one runs on, and keeps it until it is replaced\./,
    );
    await run.waitFor(/ERROR rolling reload failed: [^\n]*The env in force is still the one from before/);
    await run.waitFor(/the new workers start with the updated env \(added: BOOM\)/);
    // `show` names the env in force: without BOOM.
    const show = await cli(['show', 'failenv'], { runtime });
    expect(show.stdout).toMatch(/GREETING/);
    expect(show.stdout).not.toMatch(/BOOM/);
    // The worker that started with BOOM is killed: its restart gets the env in force (before: BOOM, and a crash loop).
    const boomPid = readyPids(run).at(-1)!;
    const readyBefore = readyPids(run).length;
    process.kill(boomPid, 'SIGKILL');
    await run.waitFor(new RegExp(`(?:worker \\d+ ready workerId=\\d+ workerPid=\\d+[^]*){${readyBefore + 1}}`));
    expect(await greetings(port)).toEqual(['none']);
    // A plain reload works with it.
    expect(await cli(['reload', 'failenv'], { runtime })).toMatchObject({ code: 0, stdout: 'reloaded failenv: 2 workers replaced, no request cut off\n' });
    expect(await greetings(port)).toEqual(['none']);
    expect(readFileSync(join(project, 'count'), 'utf8')).toBe('2');
    expect((await cli(['stop', 'failenv'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  });

  it('[H342] a mistyped env-file line is never quoted whole: its value is in no output of run, reload --update-env, logs or the log files', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const bad = 'GREETING=one\nDB_PASSWORD: hunter2-LEAK\n';
    const project = tempProject({ 'server.mjs': kServer, 'app.env': 'GREETING=one\n', 'bad.env': bad });
    // run refuses the file at its start, naming the line and the name only.
    const refused = await cli(['run', 'server.mjs', '--name', 'leak0', '-w', '1', '--env-file', 'bad.env'], { runtime, cwd: project, env: { PORT: String(port) } });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('bad.env line 2: "DB_PASSWORD: …" is not NAME=value');
    expect(`${refused.stdout}${refused.stderr}`).not.toMatch(/hunter2/);

    const run = startCli(['run', 'server.mjs', '--name', 'leak', '-w', '1', '--env-file', 'app.env', '-o', 'out.log', '-e', 'err.log', '-l', 'all.log'], {
      runtime,
      cwd: project,
      env: { PORT: String(port) },
    });
    await run.waitFor(/service leak started/);
    writeFileSync(join(project, 'app.env'), bad);
    const reload = await cli(['reload', 'leak', '--update-env'], { runtime });
    expect(reload.code).toBe(1);
    expect(reload.stderr).toMatch(/app\.env line 2: "DB_PASSWORD: …" is not NAME=value/);
    await run.waitFor(/WARN clusterkit reload --update-env refused: [^\n]*"DB_PASSWORD: …"/);
    const logs = await cli(['logs', 'leak'], { runtime });
    expect(`${logs.stdout}${logs.stderr}`).toMatch(/DB_PASSWORD: …/);
    expect((await cli(['stop', 'leak'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
    const files = ['out.log', 'err.log', 'all.log'].map((file) => readFileSync(join(project, file), 'utf8')).join('\n');
    expect(files).toMatch(/DB_PASSWORD: …/);
    expect(`${reload.stdout}${reload.stderr}${logs.stdout}${logs.stderr}${run.output()}${files}`).not.toMatch(/hunter2/);
  });

  it('[H340] a stop while --update-env loads a slow config: the reload says the cluster stopped while it reloaded, not a crash', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const config =
      "import { existsSync, writeFileSync } from 'node:fs';\n" +
      "const here = (name) => new URL(name, import.meta.url);\n" +
      "if (existsSync(here('started'))) { writeFileSync(here('loading'), ''); await new Promise((resolve) => setTimeout(resolve, 8000)); }\n" +
      `export default { apps: [{ name: 'slowcfg', script: './server.mjs', instances: 1, env: { PORT: '${port}' } }] };\n`;
    const project = tempProject({ 'server.mjs': kServer, 'clusterkit.config.mjs': config });
    const run = startCli(['run'], { runtime, cwd: project });
    await run.waitFor(/service slowcfg started/);
    writeFileSync(join(project, 'started'), '');
    const loading = new Promise<void>((resolve) => {
      const watcher = watch(project, () => {
        if (!existsSync(join(project, 'loading'))) return;
        watcher.close();
        resolve();
      });
    });
    const reload = cli(['reload', 'slowcfg', '--update-env'], { runtime });
    await loading;
    expect((await cli(['stop', 'slowcfg'], { runtime })).code).toBe(0);
    const answer = await reload;
    expect(answer.code).toBe(1);
    expect(answer.stderr).toMatch(/The cluster "slowcfg" stopped while it reloaded: a shutdown began/);
    expect(answer.stderr).not.toMatch(/may have crashed/);
    await expect(run.exited()).resolves.toBe(0);
  });
});
