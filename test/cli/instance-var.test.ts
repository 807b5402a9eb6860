/**
 * `clusterkit run` sets NODE_APP_INSTANCE to each worker's slot, as PM2's cluster mode does,
 * unless the user's --env sets it. Real workers, asked over HTTP what they see.
 */
import { afterEach, describe, expect, it } from '@jest/globals';
import { get } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { cleanUpCli, runtimeDir, startCli } from './cli-process.js';

afterEach(() => cleanUpCli());

/** What each worker sees of `vars`, by pid: asks until both workers have answered. */
async function askBothWorkers(port: number, vars: string[]): Promise<Map<number, Record<string, string | null>>> {
  const seen = new Map<number, Record<string, string | null>>();
  for (let attempt = 0; attempt < 50 && seen.size < 2; attempt++) {
    const answer = JSON.parse((await get(`http://127.0.0.1:${port}/?vars=${vars.join(',')}`)).body) as { pid: number; env: Record<string, string | null> };
    seen.set(answer.pid, answer.env);
  }
  return seen;
}

describe('clusterkit run: NODE_APP_INSTANCE', () => {
  it("is each worker's slot, as CLUSTERKIT_SLOT, like PM2's cluster mode", async () => {
    const port = await freePort();
    const run = startCli(['run', 'test/fixtures/cli-env-server.mjs', '-w', '2', '--name', 'inst'], { runtime: runtimeDir(), env: { PORT: String(port) } });
    await run.waitFor(/service inst started: 2 workers/);
    const seen = [...(await askBothWorkers(port, ['NODE_APP_INSTANCE', 'CLUSTERKIT_SLOT'])).values()];
    expect(seen.map((env) => env.NODE_APP_INSTANCE).sort()).toEqual(['0', '1']);
    for (const env of seen) expect(env.NODE_APP_INSTANCE).toBe(env.CLUSTERKIT_SLOT);
  });

  it('is left as the user sets it with --env (an inherited value is replaced)', async () => {
    const port = await freePort();
    const run = startCli(['run', 'test/fixtures/cli-env-server.mjs', '-w', '2', '--name', 'instenv', '--env', 'NODE_APP_INSTANCE=api'], {
      runtime: runtimeDir(),
      env: { PORT: String(port) },
    });
    await run.waitFor(/service instenv started: 2 workers/);
    const seen = [...(await askBothWorkers(port, ['NODE_APP_INSTANCE'])).values()];
    expect(seen).toEqual([{ NODE_APP_INSTANCE: 'api' }, { NODE_APP_INSTANCE: 'api' }]);
  });
});
