/**
 * Under `--watch`, a change of the config file the app was started from, or of its
 * `--env-file`, reloads the code only: the settings are the primary's, taken at its start
 * (H306). Before, the reload said `rolling reload complete` and nothing else, so a changed env
 * read as applied, and a config that no longer parsed went unnoticed until the next
 * `clusterkit run` (a systemd restart) failed with exit 2 (newcomer t32 H1). The CLI binary run
 * directly, with real workers, as the tester ran it: a config of two apps, one watched.
 */
import { existsSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { freePort } from '../helpers/ports.js';
import { until } from '../helpers/wait.js';
import { cleanUpCli, cli, runtimeDir, startCli, tempProject } from './cli-process.js';
import { occurrencesAfter } from './occurrences-after.js';

afterEach(() => cleanUpCli());

const kServer = "import http from 'node:http';\nhttp.createServer((q, r) => r.end(process.env.APP_LABEL ?? 'none')).listen(Number(process.env.PORT), '127.0.0.1');\n";

/** The tester's config: `api` watched with an env, `jobs` not watched. */
function config(apiPort: number, jobsPort: number, { label = 'api-env', workers = 'workers: 1,', tail = '' } = {}): string {
  return `import { defineConfig } from 'clusterkit';

export default defineConfig({
  apps: [
    { name: 'api', script: './server.mjs', ${workers} watch: true, watchDelay: 50, env: { APP_LABEL: '${label}', PORT: '${apiPort}' } },
    { name: 'jobs', script: './server.mjs', workers: 1, env: { PORT: '${jobsPort}' } },
  ],
});
${tail}`;
}

/**
 * The lines of the config's check (H306), as the run wrote them so far: lines that begin with
 * it, not a superseded reload's line that names the file (`clusterkit.config.ts changed again
 * while ...`: on a loaded machine one write can be seen as two changes).
 */
function checkLines(output: string): string[] {
  return output.split('\n').filter((line) => /^\[\w+\] (WARN )?clusterkit\.config\.ts changed[ :]/.test(line));
}

describe('clusterkit run --watch and the config file [H306]', () => {
  it('[H306][H336] a changed env is said to wait for a restart (or clusterkit reload --update-env), a config that no longer loads is a WARN with the error run prints, a comment says nothing; each still reloads', async () => {
    const runtime = runtimeDir();
    const [apiPort, jobsPort] = [await freePort(), await freePort()];
    const project = tempProject({ 'server.mjs': kServer, 'clusterkit.config.ts': config(apiPort, jobsPort) });
    const file = join(project, 'clusterkit.config.ts');
    const run = startCli(['run'], { runtime, cwd: project });
    await run.waitFor(/\[api\] watching \./);
    await run.waitFor(/\[jobs\] service jobs started/);
    const reloads = (count: number) => run.waitFor(occurrencesAfter(0, '[api] rolling reload complete replaced=1', count));

    // A comment: the same settings, nothing but the reload.
    writeFileSync(file, config(apiPort, jobsPort, { tail: '// a comment\n' }));
    await run.waitFor(/\[api\] change detected in clusterkit\.config\.ts: reloading the workers one by one/);
    await reloads(1);

    // The tester's edit: the env changed, the workers serve the old one, and the line says so.
    writeFileSync(file, config(apiPort, jobsPort, { label: 'api-env-CHANGED' }));
    await run.waitFor(/^\[api\] clusterkit\.config\.ts changed env \(APP_LABEL\) of app api: it takes effect with clusterkit reload api --update-env \(or when clusterkit run restarts\); this reload only loads the code on disk$/m);
    await reloads(2);
    // Checks run one after the other: the comment's, done before this one, said nothing.
    expect(checkLines(run.output())).toHaveLength(1);
    expect(await (await fetch(`http://127.0.0.1:${apiPort}/`)).text()).toBe('api-env');

    // A syntax error: the reload still runs; the WARN gives the error the next run exits 2 with.
    writeFileSync(file, config(apiPort, jobsPort, { label: 'api-env-CHANGED', workers: 'workers: 1 oops' }));
    const [, problem] = await run.waitFor(
      /^\[api\] WARN clusterkit\.config\.ts changed and no longer loads: (Cannot load the config file \S*clusterkit\.config\.ts:\d+:\d+: [^\n]*?)\. The cluster runs on with the config it started with \(this reload only loads the code on disk\); the next clusterkit run would fail with this error until it is fixed\. err=ERR_CONFIG_UNLOADABLE$/m,
    );
    await reloads(3);
    const next = await cli(['run', 'api'], { runtime, cwd: project });
    expect(next.code).toBe(2);
    expect(next.stderr).toContain(`clusterkit: ${problem}`);

    // Back as it started: said once, as the lines before it are.
    writeFileSync(file, config(apiPort, jobsPort));
    await run.waitFor(/^\[api\] clusterkit\.config\.ts changed: it loads, and the settings of app api are again those in force$/m);
    await reloads(4);
    expect(checkLines(run.output())).toHaveLength(3);
    // The app not watched says nothing.
    expect(run.output()).not.toMatch(/^\[jobs\] .*clusterkit\.config\.ts changed/m);

    run.child.kill('SIGINT');
    await expect(run.exited()).resolves.toBe(0);
  });

  it('[H306] a watched --env-file: the changed variables are named, never their values', async () => {
    const runtime = runtimeDir();
    const project = tempProject({ 'server.mjs': kServer, 'app.env': 'DB_PASSWORD=old-secret\nAPP_LABEL=x\n' });
    const run = startCli(['run', 'server.mjs', '--name', 'envf', '-w', '1', '--watch', '--watch-delay', '50ms', '--env-file', 'app.env'], {
      runtime,
      cwd: project,
      env: { PORT: String(await freePort()) },
    });
    await run.waitFor(/\[envf\] watching \./);
    writeFileSync(join(project, 'app.env'), 'DB_PASSWORD=new-secret\nAPP_LABEL=x\nEXTRA=1\n');
    await run.waitFor(/^\[envf\] app\.env changed env \(DB_PASSWORD, EXTRA\) of app envf: it takes effect with clusterkit reload envf --update-env \(or when clusterkit run restarts\); this reload only loads the code on disk$/m);
    await run.waitFor(/\[envf\] rolling reload complete replaced=1/);
    expect(run.output()).not.toMatch(/old-secret|new-secret/);
    expect((await cli(['stop', 'envf'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  });

  it('[H316] a .env and a config outside the watched paths are watched too: their change is said, with no reload', async () => {
    const runtime = runtimeDir();
    const project = tempProject({
      'server.mjs': kServer,
      'src/keep.txt': '',
      '.env': 'APP_LABEL=one\n',
      'clusterkit.config.json': JSON.stringify({ apps: [{ name: 'dotenv', script: 'server.mjs', workers: 1, watch: ['src'], watchDelay: 50, envFile: '.env' }] }),
    });
    const run = startCli(['run'], { runtime, cwd: project, env: { PORT: String(await freePort()) } });
    await run.waitFor(
      /^\[dotenv\] watching src \(ignoring [^)]*\); a change reloads the workers with no downtime; clusterkit\.config\.json and \.env, which the settings were read from, are watched too: a change is said, and reloads nothing \(a changed env takes effect with clusterkit reload --update-env, another setting when clusterkit run restarts\)$/m,
    );
    await run.waitFor(/\[dotenv\] service dotenv started/);
    writeFileSync(join(project, '.env'), 'APP_LABEL=two\nADDED=1\n');
    await run.waitFor(/^\[dotenv\] \.env changed env \(APP_LABEL, ADDED\) of app dotenv: it takes effect with clusterkit reload dotenv --update-env \(or when clusterkit run restarts\); the workers are not reloaded for it, as they load no code from it$/m);
    writeFileSync(join(project, 'clusterkit.config.json'), '{ "apps": [');
    await run.waitFor(/^\[dotenv\] WARN clusterkit\.config\.json changed and no longer loads: .*\(the workers are not reloaded for it, as they load no code from it\); the next clusterkit run would fail/m);
    // A change in the watched tree still reloads.
    writeFileSync(join(project, 'src', 'keep.txt'), 'x');
    await run.waitFor(/\[dotenv\] rolling reload complete replaced=1/);
    expect(run.output()).not.toMatch(/change detected in (\.env|clusterkit\.config\.json)/);
    expect((await cli(['stop', 'dotenv'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  });

  it('[H320] a config written again while its check loaded it says nothing of what it read: the later write is checked and said', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    // Each load appends a line to loads.txt; a load waits while the file "hold" exists, so the
    // test knows a check is reading the file and can write it again meanwhile.
    const versioned = (env: string) => `const fs = require('node:fs');
fs.appendFileSync(__dirname + '/loads.txt', 'load\\n');
while (fs.existsSync(__dirname + '/hold')) {}
module.exports = { apps: [{ name: 'held', script: './server.mjs', workers: 1, watch: ['clusterkit.config.cjs'], watchDelay: 50, env: { ${env}, PORT: '${port}' } }] };
`;
    const project = tempProject({ 'server.mjs': kServer, 'clusterkit.config.cjs': versioned("APP_LABEL: 'one'") });
    const file = join(project, 'clusterkit.config.cjs');
    const loads = () => (existsSync(join(project, 'loads.txt')) ? readFileSync(join(project, 'loads.txt'), 'utf8').split('\n').length - 1 : 0);
    const run = startCli(['run', '-c', 'clusterkit.config.cjs'], { runtime, cwd: project });
    await run.waitFor(/\[held\] service held started/);
    // The watch's first scan is done: a change from now on counts.
    await run.waitFor(/\[held\] watching clusterkit\.config\.cjs/);
    const before = loads();
    writeFileSync(join(project, 'hold'), '');
    writeFileSync(file, versioned("APP_LABEL: 'two'"));
    await until(() => loads() > before);
    // The check is reading the file: it changes again before the check ends.
    writeFileSync(file, versioned("APP_LABEL: 'three', EXTRA: 'x'"));
    rmSync(join(project, 'hold'));
    await run.waitFor(/^\[held\] clusterkit\.config\.cjs changed env \(APP_LABEL, EXTRA\) of app held/m);
    // Before: "changed env (APP_LABEL)" first, said of what the file no longer held.
    expect(run.output()).not.toMatch(/changed env \(APP_LABEL\) of/);
    process.kill(run.child.pid!, 'SIGTERM');
    expect(await run.exited()).toBe(0);
  });
});
