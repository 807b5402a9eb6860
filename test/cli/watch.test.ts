import { spawn, type ChildProcess } from 'node:child_process';
import { appendFileSync, closeSync, mkdirSync, openSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { freePort } from '../helpers/ports.js';
import { killSpawned, kRepoRoot, spawnScript } from '../helpers/spawn.js';
import { until } from '../helpers/wait.js';
import { cleanUpCli, cli, kCliPath, runtimeDir, startCli, tempProject } from './cli-process.js';

/** `clusterkit run` processes started with their output in a file (process group leaders). */
const redirected: ChildProcess[] = [];
afterEach(() => {
  for (const child of redirected.splice(0)) {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }
  killSpawned();
  cleanUpCli();
});

const kServer = readFileSync(join(kRepoRoot, 'examples/demo/server.js'), 'utf8');

/** How many times `pattern` occurs in the output so far. */
function count(output: string, pattern: RegExp): number {
  return output.match(new RegExp(pattern.source, 'g'))?.length ?? 0;
}

describe('clusterkit run --watch', () => {
  it('reloads on a save under load without failing a request; a broken save keeps the old workers serving; the next save reloads', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const project = tempProject({ 'server.mjs': kServer, 'lib/util.mjs': 'export const version = 1;\n' });
    const run = startCli(['run', 'server.mjs', '-w', '2', '--name', 'live', '--watch', '--watch-delay', '50ms', '--ignore-watch', 'uploads'], {
      runtime,
      cwd: project,
      env: { PORT: String(port) },
    });
    await run.waitFor(/\[live\] watching \. \(ignoring node_modules, dot entries, \*\.log, editor temp files, uploads\)/);
    const client = spawnScript('test/fixtures/load-client.ts', { args: [String(port), '8', '/?delay=20'] });
    await client.waitFor(/load started/);

    // 1. A good save: a rolling reload.
    appendFileSync(join(project, 'lib/util.mjs'), '// saved\n');
    await run.waitFor(/\[live\] change detected in lib\/util\.mjs: reloading the workers one by one/);
    await run.waitFor(/rolling reload complete replaced=2/);

    // 2. A broken save: the new code fails to start, the old workers keep serving.
    writeFileSync(join(project, 'server.mjs'), `throw new Error('half-written code');\n${kServer}`);
    await run.waitFor(/rolling reload failed: The replacement for worker slot 0 failed to start .*half-written code/);
    await run.waitFor(/the workers it did not replace keep serving the code from before it; the next change reloads again/);

    // Ignored: node_modules, dot entries, *.log and --ignore-watch; none of them is listed below.
    mkdirSync(join(project, 'node_modules/dep'), { recursive: true });
    mkdirSync(join(project, 'uploads'));
    for (const ignored of ['node_modules/dep/index.js', '.env', 'app.log', 'uploads/a.png']) writeFileSync(join(project, ignored), 'x');
    // 3. The fix: reloaded again.
    writeFileSync(join(project, 'server.mjs'), kServer);
    await run.waitFor(/\[live\] change detected in server\.mjs: reloading/);
    await run.waitFor(/(rolling reload complete replaced=2[^]*){2}/);

    client.child.kill('SIGTERM');
    const [line] = await client.waitFor(/\{.*\}/);
    const result = JSON.parse(line) as { ok: number; failed: number; errors: Record<string, number> };
    expect(result.errors).toEqual({});
    expect(result.failed).toBe(0);
    expect(result.ok).toBeGreaterThan(20);
    expect(count(run.output(), /change detected in /)).toBe(3);
    expect(run.output()).not.toMatch(/change detected in [^\n]*(node_modules|\.env|app\.log|uploads)/);
    expect((await cli(['stop', 'live'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  });

  it('does not reload on its own output when that goes to a file in the watched directory (> out.txt)', async () => {
    const runtime = runtimeDir();
    const project = tempProject({ 'server.mjs': kServer, 'other.mjs': '' });
    const outFile = join(project, 'out.txt');
    const fd = openSync(outFile, 'a');
    const child = spawn(process.execPath, [kCliPath, 'run', 'server.mjs', '-w', '1', '--name', 'nohup', '--watch', '--watch-delay', '50ms'], {
      cwd: project,
      stdio: ['ignore', fd, fd],
      detached: true,
      env: { ...process.env, XDG_RUNTIME_DIR: runtime, PORT: String(await freePort()) },
    });
    closeSync(fd);
    redirected.push(child);
    const output = () => readFileSync(outFile, 'utf8');
    await until(() => output().includes('watching .'), 60_000, 'the watch started');
    // Each reload writes to out.txt; two saves must make exactly two reloads.
    for (const [index, file] of ['server.mjs', 'other.mjs'].entries()) {
      appendFileSync(join(project, file), '// saved\n');
      await until(() => count(output(), /rolling reload complete/) === index + 1, 60_000, `reload ${index + 1}`);
    }
    expect((await cli(['stop', 'nohup'], { runtime })).code).toBe(0);
    expect(output().match(/change detected in [^\n]*/g)).toEqual(['change detected in server.mjs: reloading the workers one by one', 'change detected in other.mjs: reloading the workers one by one']);
  });

  // Before: "(ignoreWatch: [\"access.txt\"] in the config file)", which an ecosystem file with
  // ignore_watch refuses ("both keys", exit 2) (newcomer t24).
  it.each([
    ['the key the file wrote', "ignore_watch: ['node_modules'], ", 'add "access.txt" to ignore_watch in ecosystem.config.cjs'],
    ["PM2's key for a PM2 file without one", '', 'add ignore_watch: ["access.txt"] to the app in ecosystem.config.cjs'],
  ])('[H212] a file the app writes at each boot is named with %s', async (_, ignore, advice) => {
    const runtime = runtimeDir();
    const app = "require('node:fs').appendFileSync('access.txt', 'boot\\n');\nrequire('node:http').createServer((q, r) => r.end('ok')).listen(Number(process.env.PORT));\n";
    const project = tempProject({
      'app.cjs': app,
      'ecosystem.config.cjs': `module.exports = { apps: [{ name: 'wapp', script: './app.cjs', instances: 1, watch: true, ${ignore}watch_delay: 50, env: { PORT: '${await freePort()}' } }] };\n`,
    });
    const run = startCli(['run', 'ecosystem.config.cjs'], { runtime, cwd: project });
    await run.waitFor(/\[wapp\] watching \./);
    appendFileSync(join(project, 'app.cjs'), '// saved\n');
    const [line] = await run.waitFor(/\[wapp\] WARN access\.txt was written while each of the last 3 reloads ran[^\n]*/);
    expect(line).toContain(`If it is the app's output, leave it out for good: ${advice} (or --ignore-watch access.txt on the command line)`);
    expect(line).not.toContain('ignoreWatch');
    expect((await cli(['stop', 'wapp'], { runtime })).code).toBe(0);
    await expect(run.exited()).resolves.toBe(0);
  });
});
