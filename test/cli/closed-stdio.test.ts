/**
 * A script that closes its own stdout or stderr (`fs.closeSync(1)`, as old daemon-style scripts
 * do) runs under `clusterkit run` as under plain `node`. Before, every worker of it died of
 * SIGABRT at ready (`uv__close: Assertion fd > STDERR_FILENO`): libuv's RSS read took the free
 * descriptor 1 (hostile t58). The CLI binary run directly, real workers.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { get } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { until } from '../helpers/wait.js';
import { cleanUpCli, cli, runtimeDir, startCli, tempProject } from './cli-process.js';

afterEach(() => cleanUpCli());

describe('clusterkit run: a script that closes its own output', () => {
  it.each([
    ['at its import (stdout)', 'closeimport', "require('node:fs').closeSync(1);\nrequire('node:http').createServer((q, s) => s.end('ok')).listen(Number(process.env.PORT));\n"],
    ['once it listens (stdout and stderr)', 'closelisten', "const fs = require('node:fs');\nrequire('node:http').createServer((q, s) => s.end('ok')).listen(Number(process.env.PORT), () => { fs.closeSync(1); fs.closeSync(2); });\n"],
  ])('[H560] %s: its workers start, serve, answer heartbeats and stop gracefully', async (_when, name, script) => {
    const runtime = runtimeDir();
    const port = await freePort();
    const run = startCli(['run', 'app.cjs', '-w', '2', '--name', name], { runtime, cwd: tempProject({ 'app.cjs': script }), env: { PORT: String(port) } });
    // Before: `worker 1 could not start: it died of SIGABRT`, three times, and the run exited 1.
    await run.waitFor(new RegExp(`service ${name} started: 2 workers`), 60_000);
    expect((await get(`http://127.0.0.1:${port}/`)).body).toBe('ok');
    // Heartbeats read the memory the same way: two rounds of them answered, the workers still up.
    // (the loop delay comes from a worker's second answer on).
    const status = async () => JSON.parse((await cli(['status', name, '--json'], { runtime })).stdout) as { workers: Array<{ crashes: number; eventLoopDelayMs?: number }> };
    await until(async () => (await status()).workers.filter((worker) => worker.eventLoopDelayMs !== undefined).length === 2, 30_000, 'two heartbeat answers of each worker');
    expect((await status()).workers.map((worker) => worker.crashes)).toEqual([0, 0]);
    const stop = await cli(['stop', name], { runtime });
    expect(stop).toMatchObject({ code: 0, stdout: `stopped ${name}: 2 workers stopped gracefully\n` });
    await expect(run.exited()).resolves.toBe(0);
    expect(run.stderr()).not.toContain('SIGABRT');
  }, 90_000);
});
