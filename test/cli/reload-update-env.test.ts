/**
 * `clusterkit reload <name> --update-env` (H336, newcomer t34 M1): a changed `.env`
 * (`--env-file`) or config `env` / `env_<name>` applied with no downtime, as PM2's
 * `pm2 reload ecosystem.config.js --env production --update-env`. Before, only a full restart
 * applied it. The CLI binary run directly, with real workers and a real load.
 */
import { writeFileSync } from 'node:fs';
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
    expect(reload).toMatchObject({ code: 0, stdout: 'reloaded upenv: 2 workers replaced, no request cut off; env loaded again from .env: ADDED, GREETING, SECRET changed\n' });
    client.child.kill('SIGTERM');
    const [line] = await client.waitFor(/\{.*\}/);
    const result = JSON.parse(line) as { ok: number; failed: number; errors: Record<string, number> };
    expect(result.errors).toEqual({});
    expect(result.failed).toBe(0);
    expect(result.ok).toBeGreaterThan(20);
    expect(await greetings(port)).toEqual(['bonjour']);
    await run.waitFor(/rolling reload started: clusterkit reload asked for it \(the control socket\); the new workers start with the updated env \(changed: ADDED, GREETING, SECRET\) workers=2/);
    // `show` lists the names in force now.
    expect((await cli(['show', 'upenv'], { runtime })).stdout).toMatch(/ADDED/);
    // Names only: a value may be a secret.
    expect(`${run.output()}${reload.stdout}${reload.stderr}`).not.toMatch(/old-secret|new-secret|bonjour/);

    // A restart after it gets the new env too (the env in force is the reload's).
    expect((await cli(['stop', 'upenv'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  });

  it('[H336] a config env_<name> change with the run\'s --env <name>; a broken config or env file refuses the reload, the old workers serve on', async () => {
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
      stdout: 'reloaded cfgenv: 1 worker replaced, no request cut off; env loaded again from ecosystem.config.cjs: GREETING changed; maxMemory changed too, and takes effect when clusterkit run restarts\n',
    });
    expect(await greeting(port)).toBe('prod-2');
    await run.waitFor(/clusterkit reload --update-env: ecosystem\.config\.cjs changed maxMemory of app cfgenv: it takes effect when clusterkit run restarts; the reload applies the env only/);

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
});
