/**
 * A notification's handler that throws or rejects, with nothing listening for 'error', never
 * ends the process, on the primary or the worker: it is said on stderr (H421). An unheard
 * 'error' that does end it (a listener that threw) is explained first (H422). A thrown string
 * reaches the requester as any non-Error does (H428).
 */
import { describe, expect, it } from '@jest/globals';
import { spawnScript } from '../helpers/spawn.js';

const kFixture = 'test/fixtures/notify-throws-primary.ts';

describe('throwing handlers and listeners with no error listener', () => {
  it('[H421] a notification handler that throws or rejects is said on stderr; the primary and the worker go on', async () => {
    const run = spawnScript(kFixture, { env: { MODE: 'notify' } });
    const code = await run.exited();
    const line = run.stdout().split('\n').find((text) => text.includes('"result"'));
    expect({ code, line: line !== undefined, stderr: run.stderr() }).toEqual({ code: 0, line: true, stderr: expect.any(String) });
    const result = JSON.parse(line!) as { warnings: string[]; workerWarnings: string[] };
    const advice = (side: string, owner: string) => `Nothing listens for 'error' on the ${owner}, so it is only said here: add ${side}.on('error', ...) to handle it, or catch in the handler`;
    expect(result.warnings).toEqual([
      expect.stringMatching(/^The handler of notification "syncThrow" from worker \d+ \(pid \d+\) threw: Error: primary sync boom\. /),
      expect.stringMatching(/^The handler of notification "asyncThrow" from worker \d+ \(pid \d+\) threw: Error: primary async boom\. /),
    ]);
    for (const warning of result.warnings) expect(warning).toContain(advice('primary', 'ClusterPrimary'));
    expect(result.workerWarnings).toEqual([
      `The handler of notification "syncThrow" from the primary threw: Error: worker sync boom. ${advice('worker', 'ClusterWorker')}`,
      `The handler of notification "asyncThrow" from the primary threw: Error: worker async boom. ${advice('worker', 'ClusterWorker')}`,
    ]);
    // Said on stderr with the handler's stack, where the throw was.
    expect(run.stderr()).toMatch(/ClusterkitWarning: The handler of notification "syncThrow" from the primary threw[^\n]*\nError: worker sync boom\n\s+at /);
  });

  it('[H428] a string thrown by a request handler reaches the requester as any non-Error value does', async () => {
    const run = spawnScript(kFixture, { env: { MODE: 'notify' } });
    expect(await run.exited()).toBe(0);
    const line = run.stdout().split('\n').find((text) => text.includes('"result"'));
    expect((JSON.parse(line!) as { thrown: unknown }).thrown).toEqual({ remoteName: 'Error', remoteMessage: 'Non-error value thrown: just a string' });
  });

  it("[H422] a primary listener that rejects with nothing listening for 'error' ends the process after a line saying why and the fix", async () => {
    const run = spawnScript(kFixture, { env: { MODE: 'listener-primary' } });
    expect(await run.exited()).toBe(1);
    const stderr = run.stderr();
    expect(stderr).toContain(
      `clusterkit: a listener of "workerReady" rejected and nothing listens for 'error' on the ClusterPrimary, so the process ends as Node's EventEmitter would: add primary.on('error', ...) to handle it\n`,
    );
    // The original error is still what is thrown.
    expect(stderr).toMatch(/Error: async listener boom/);
  });

  it("[H422] a worker listener that throws with nothing listening for 'error' says why and the fix before the worker ends", async () => {
    const run = spawnScript(kFixture, { env: { MODE: 'listener-worker' } });
    await run.waitFor(/clusterkit: a listener of "primaryMessage" threw and nothing listens for 'error' on the ClusterWorker, so the process ends as Node's EventEmitter would: add worker\.on\('error', \.\.\.\) to handle it\n/);
    await run.waitFor(/Error: worker listener boom/);
  });
});
