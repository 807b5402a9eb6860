import { appendFileSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { freePort } from '../helpers/ports.js';
import { killSpawned, kRepoRoot, spawnScript } from '../helpers/spawn.js';
import { cleanUpCli, cli, runtimeDir, startCli, tempProject } from './cli-process.js';

afterEach(() => {
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
    await run.waitFor(/\[live\] watching \. \(ignoring node_modules, dot entries, \*\.log, uploads\)/);
    const client = spawnScript('test/fixtures/load-client.ts', { args: [String(port), '8', '/?delay=20'] });
    await client.waitFor(/load started/);

    // 1. A good save: a rolling reload.
    appendFileSync(join(project, 'lib/util.mjs'), '// saved\n');
    await run.waitFor(/\[live\] change detected in lib\/util\.mjs: reloading the workers one by one/);
    await run.waitFor(/rolling reload complete replaced=2/);

    // 2. A broken save: the new code fails to start, the old workers keep serving.
    writeFileSync(join(project, 'server.mjs'), `throw new Error('half-written code');\n${kServer}`);
    await run.waitFor(/rolling reload failed: The replacement for worker slot 0 failed to start .*half-written code/);
    await run.waitFor(/the old workers keep serving; the next change reloads again/);

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
});
