import { afterEach, describe, expect, it } from '@jest/globals';
import { get } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { waitUntilGone } from '../helpers/processes.js';
import { cleanUpCli, readyPids, runtimeDir, startCli } from './cli-process.js';

afterEach(() => cleanUpCli());

describe('clusterkit run: kinds of scripts', () => {
  it('runs a TypeScript script through --node-arg=--import=tsx, passing the arguments after --', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const run = startCli(['run', 'test/fixtures/cli-ts-server.ts', '-w', '2', '--node-arg=--import=tsx', '--', '--mode', 'fast'], { runtime, env: { PORT: String(port) } });
    await run.waitFor(/service cli-ts-server started: 2 workers/);
    const answers = [];
    for (let i = 0; i < 4; i++) answers.push(JSON.parse((await get(`http://127.0.0.1:${port}/`)).body) as { pid: number; args: string[]; script: string });
    expect(new Set(answers.map((answer) => answer.pid))).toEqual(new Set(readyPids(run)));
    // The script sees the command line it would see under plain node.
    expect(answers[0]).toMatchObject({ args: ['--mode', 'fast'], script: expect.stringMatching(/test\/fixtures\/cli-ts-server\.ts$/) });
    process.kill(run.child.pid!, 'SIGINT');
    await expect(run.exited()).resolves.toBe(0);
    await waitUntilGone(answers.map((answer) => answer.pid));
  });

  it('runs a CommonJS script as the main module, so a require.main guard still starts it', async () => {
    const runtime = runtimeDir();
    const port = await freePort();
    const run = startCli(['run', 'test/fixtures/cli-commonjs-server.cjs', '-w', '1'], { runtime, env: { PORT: String(port) } });
    await run.waitFor(/service cli-commonjs-server started/);
    const answer = JSON.parse((await get(`http://127.0.0.1:${port}/`)).body) as { pid: number; isMain: boolean };
    expect(answer).toEqual({ pid: readyPids(run)[0], isMain: true });
    process.kill(run.child.pid!, 'SIGTERM');
    await expect(run.exited()).resolves.toBe(0);
  });
});
