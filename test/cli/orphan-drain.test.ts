/**
 * The primary of `clusterkit run` killed with SIGKILL while a request is in flight: its worker,
 * orphaned, drains for the cluster's shutdown timeout (--shutdown-timeout, PM2's kill_timeout),
 * as a stop would, then exits; and it says so itself in the run's --error file, whose writer
 * (the primary) is gone (H397). The CLI binary run directly, a real HTTP server, a real client.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import { onCleanup } from '../helpers/cleanup.js';
import { get } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { isAlive, waitUntilGone } from '../helpers/processes.js';
import { until } from '../helpers/wait.js';
import { kRepoRoot } from '../helpers/spawn.js';
import { cleanUpCli, readyPids, runtimeDir, startCli, tempProject } from './cli-process.js';

afterEach(() => cleanUpCli());

describe('clusterkit run: an orphaned worker', () => {
  it('[H397] primary SIGKILLed with a 3 s request in flight: the worker drains it for --shutdown-timeout (10 s), not 1.5 s, then exits, and its --error file says what it did', async () => {
    const runtime = runtimeDir();
    const logs = mkdtempSync(join(tmpdir(), 'ck-h397-'));
    onCleanup(() => rmSync(logs, { recursive: true, force: true }));
    const errorFile = join(logs, 'err.log');
    const port = await freePort();
    const run = startCli(['run', 'test/fixtures/cli-slow-server.mjs', '-w', '1', '--name', 'orphan', '--shutdown-timeout', '10s', '--error', errorFile], { runtime, env: { PORT: String(port) } });
    await run.waitFor(/service orphan started: 1 worker/);
    const [pid] = readyPids(run);
    const held = get(`http://127.0.0.1:${port}/?ms=3000&write=1`, 60_000).catch((error: Error) => error);
    await run.waitFor(/request \d+/);
    // Its answer is preceded by a process.stdout.write to the dead primary's pipe: EPIPE, which
    // Node throws uncaught from the stream (before: the orphan died of it, the request cut).
    process.kill(run.child.pid!, 'SIGKILL');
    const killedAt = Date.now();
    // Before: cut about 1.5 s after the kill (the worker's destroyTimeoutMs), ECONNRESET.
    await expect(held).resolves.toMatchObject({ status: 200, body: String(pid) });
    // The orphan guarantee holds: it exits once drained, well within the timeout (bound generous for a loaded machine).
    await waitUntilGone([pid!], 30_000);
    expect(isAlive(pid!)).toBe(false);
    expect(Date.now() - killedAt).toBeLessThan(30_000);
    // Its own lines, in the file that gets the workers' stderr (before: nothing, the primary that wrote it was gone).
    await until(() => /stopped on its own/.test(readFileSync(errorFile, 'utf8')), 20_000, 'the orphan\'s last line');
    const text = readFileSync(errorFile, 'utf8');
    expect(text).toContain(
      `[orphan:1 err] [clusterkit] WARN worker 1 (pid ${pid}): its primary (pid ${run.child.pid}) is gone (killed or crashed: its IPC channel closed); it stops on its own (orphan protection): 1 request open, given up to 10000 ms (the cluster's shutdown timeout) to finish, then it exits\n`,
    );
    expect(text).toMatch(new RegExp(`\\[orphan:1 err\\] \\[clusterkit\\] WARN worker 1 \\(pid ${pid}\\) stopped on its own \\d+ ms after its primary was gone: no request was cut off\\n`));
  });

  it("[H397] the same for a script that stops through its own SIGINT listener (server.close, then process.exit): the request is answered, the --log file has both lines", async () => {
    const runtime = runtimeDir();
    const logs = mkdtempSync(join(tmpdir(), 'ck-h397-'));
    onCleanup(() => rmSync(logs, { recursive: true, force: true }));
    const logFile = join(logs, 'all.log');
    const port = await freePort();
    const run = startCli(['run', 'test/fixtures/cli-cleanup-script.mjs', '-w', '1', '--name', 'orphan2', '--shutdown-timeout', '10s', '--log', logFile], { runtime, env: { PORT: String(port) } });
    await run.waitFor(/service orphan2 started: 1 worker/);
    const [pid] = readyPids(run);
    const held = get(`http://127.0.0.1:${port}/?ms=3000`, 60_000).catch((error: Error) => error);
    await run.waitFor(/request \d+/);
    process.kill(run.child.pid!, 'SIGKILL');
    await expect(held).resolves.toMatchObject({ status: 200, body: String(pid) });
    await waitUntilGone([pid!], 30_000);
    // Written from the 'exit' event: the script's own process.exit(0) ends the stop.
    await until(() => /stopped on its own/.test(readFileSync(logFile, 'utf8')), 20_000, "the orphan's last line");
    const text = readFileSync(logFile, 'utf8');
    expect(text).toContain(`[orphan2:1 err] [clusterkit] WARN worker 1 (pid ${pid}): its primary (pid ${run.child.pid}) is gone`);
    expect(text).toMatch(new RegExp(`\\[orphan2:1 err\\] \\[clusterkit\\] WARN worker 1 \\(pid ${pid}\\) stopped on its own \\d+ ms after its primary was gone: no request was cut off\\n`));
  });

  // Before: "Raise the cluster's shutdown timeout (--shutdown-timeout, shutdownTimeoutMs, PM2's kill_timeout)",
  // every spelling at once, the library's option among them (retest t72 N3).
  it("[H695] a request that outlasts the config file's kill_timeout: the orphan's line names --shutdown-timeout and the key that set it", async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const project = tempProject({
      'ecosystem.config.cjs': `module.exports = { apps: [{ name: 'orphan3', script: ${JSON.stringify(join(kRepoRoot, 'test/fixtures/cli-slow-server.mjs'))}, instances: 1, kill_timeout: 2000, error_file: './err.log', env: { PORT: '${port}' } }] };\n`,
    });
    const run = startCli(['run', 'ecosystem.config.cjs'], { runtime, cwd: project });
    await run.waitFor(/service orphan3 started: 1 worker/);
    const [pid] = readyPids(run);
    const held = get(`http://127.0.0.1:${port}/?ms=20000`, 60_000).catch((error: Error) => error);
    await run.waitFor(/request \d+/);
    process.kill(run.child.pid!, 'SIGKILL');
    await expect(held).resolves.toHaveProperty('code', 'ECONNRESET');
    await waitUntilGone([pid!], 30_000);
    const errorFile = join(project, 'err.log');
    await until(() => /stopped on its own/.test(readFileSync(errorFile, 'utf8')), 20_000, "the orphan's last line");
    expect(readFileSync(errorFile, 'utf8')).toMatch(
      new RegExp(
        `WARN worker 1 \\(pid ${pid}\\) stopped on its own \\d+ ms after its primary was gone: it cut off 1 request still open at its deadline \\(2000 ms\\)\\. ` +
          'Raise --shutdown-timeout \\(kill_timeout in ecosystem\\.config\\.cjs\\) if requests take longer\\n',
      ),
    );
  });
});
