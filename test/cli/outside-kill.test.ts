/**
 * A ready worker killed by a signal the primary did not send (kill -9, the OOM killer) reads as
 * a kill in `clusterkit run`'s log, not as a crash whose signal only a trailing field names (H232).
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { freePort } from '../helpers/ports.js';
import { cleanUpCli, readyPids, runtimeDir, startCli, tempProject } from './cli-process.js';

afterEach(() => cleanUpCli());

const kServer = "require('node:http').createServer((q, s) => s.end('ok')).listen(Number(process.env.PORT));\n";

describe('clusterkit run: a worker killed from outside', () => {
  it('[H232] its line says it was killed by SIGKILL from outside clusterkit, not that it crashed', async () => {
    const run = startCli(['run', 'server.cjs', '-w', '1', '--name', 'outkill'], { runtime: runtimeDir(), cwd: tempProject({ 'server.cjs': kServer }), env: { PORT: String(await freePort()) } });
    await run.waitFor(/service outkill started: 1 worker /);
    const [pid] = readyPids(run);
    process.kill(pid!, 'SIGKILL');
    // Before: "worker 1 crashed 0.2 s after it became ready ... signal=SIGKILL".
    const [line] = await run.waitFor(/[^\n]*worker 1 (crashed|was killed)[^\n]*/);
    expect(line).toMatch(/WARN worker 1 was killed by SIGKILL from outside clusterkit \(kill -9, the OOM killer, or the worker's own code\) \d+(\.\d)? m?s after it became ready/);
    await run.waitFor(/worker 2 ready/);
    process.kill(run.child.pid!, 'SIGINT');
    await run.exited();
  });
});
