/**
 * [H662] `clusterkit run --node-arg=--frozen-intrinsics` (hostile t66): every worker died at its
 * start in clusterkit's own code (`Error.stackTraceLimit = 0` throws where `Error` is frozen), and
 * the log said "its output says why" over an output of `{}`. Then, with that fixed, Node's own
 * `queryServer` of the script's listen was refused as the script's (the guard reads its caller
 * from the stack, through `Error.prepareStackTrace`, frozen too), and no worker ever listened.
 * The real CLI (dist), real workers under the option.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { get } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { cleanUpCli, cli, runtimeDir, startCli, tempProject } from './cli-process.js';

afterEach(() => cleanUpCli());

describe('clusterkit run with the workers under --frozen-intrinsics [H662]', () => {
  it('[H662] starts, serves, reloads and stops them as any other', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const project = tempProject({ 'app.cjs': "require('node:http').createServer((q, s) => s.end('ok ' + process.pid)).listen(Number(process.env.PORT), '127.0.0.1');\n" });
    const run = startCli(['run', 'app.cjs', '-w', '2', '--name', 'frozen', '--node-arg=--frozen-intrinsics'], { runtime, cwd: project, env: { PORT: String(port) } });
    await run.waitFor(/service frozen started: 2 workers/);
    await expect(get(`http://127.0.0.1:${port}/`)).resolves.toMatchObject({ status: 200 });
    const reload = await cli(['reload', 'frozen'], { runtime, ms: 60_000 });
    expect(reload.stdout).toBe('reloaded frozen: 2 workers replaced, no request cut off\n');
    await expect(get(`http://127.0.0.1:${port}/`)).resolves.toMatchObject({ status: 200 });
    const stop = await cli(['stop', 'frozen'], { runtime, ms: 60_000 });
    expect(stop.stdout).toBe('stopped frozen: 2 workers stopped gracefully\n');
    expect(await run.exited(30_000)).toBe(0);
    expect(run.stderr()).not.toMatch(/stackTraceLimit|could not start|NODE_CLUSTER/);
  }, 120_000);
});
