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
      expect.stringMatching(/^The handler of notification "asyncThrow" from worker \d+ \(pid \d+\) rejected: Error: primary async boom\. /),
    ]);
    for (const warning of result.warnings) expect(warning).toContain(advice('primary', 'ClusterPrimary'));
    expect(result.workerWarnings).toEqual([
      `The handler of notification "syncThrow" from the primary threw: Error: worker sync boom. ${advice('worker', 'ClusterWorker')}`,
      `The handler of notification "asyncThrow" from the primary rejected: Error: worker async boom. ${advice('worker', 'ClusterWorker')}`,
    ]);
    // Said on stderr with the handler's stack, where the throw was.
    expect(run.stderr()).toMatch(/ClusterkitWarning: The handler of notification "syncThrow" from the primary threw[^\n]*\nError: worker sync boom\n\s+at /);
  });

  it("[H700] an 'error' listener gets a NotificationHandlerError naming the type, the sender and whether it threw or rejected, with what was thrown as its cause", async () => {
    const run = spawnScript(kFixture, { env: { MODE: 'heard' } });
    expect(await run.exited()).toBe(0);
    const line = run.stdout().split('\n').find((text) => text.includes('"result"'));
    const result = JSON.parse(line!) as { heard: Record<string, unknown>[]; workerHeard: Record<string, unknown>[]; warnings: string[] };
    // Before (hostile t71 F4): the bare Error (a RangeError from a handler given a 10,000-deep
    // payload), nothing naming the notification or the worker it came from.
    const primaryMessage = (type: string, how: string, what: string) =>
      expect.stringMatching(
        new RegExp(`^The handler of notification "${type}" from worker \\d+ \\(pid \\d+\\) ${how}: Error: ${what}\\. Nobody waits for a notification's outcome, so it is not thrown on, and the primary goes on: catch in the handler, or listen for 'error' on the primary to handle it\\.$`),
      );
    expect(result.heard).toEqual([
      { name: 'NotificationHandlerError', code: 'ERR_NOTIFICATION_HANDLER_FAILED', messageType: 'syncThrow', sender: expect.stringMatching(/^worker \d+ \(pid \d+\)$/), workerId: expect.any(Number), isRejection: false, message: primaryMessage('syncThrow', 'threw', 'primary sync boom'), cause: 'primary sync boom' },
      { name: 'NotificationHandlerError', code: 'ERR_NOTIFICATION_HANDLER_FAILED', messageType: 'asyncThrow', sender: expect.stringMatching(/^worker \d+ \(pid \d+\)$/), workerId: expect.any(Number), isRejection: true, message: primaryMessage('asyncThrow', 'rejected', 'primary async boom'), cause: 'primary async boom' },
    ]);
    const workerMessage = (type: string, how: string, what: string) =>
      `The handler of notification "${type}" from the primary ${how}: Error: ${what}. Nobody waits for a notification's outcome, so it is not thrown on, and the worker goes on: catch in the handler, or listen for 'error' on the worker to handle it.`;
    expect(result.workerHeard).toEqual([
      { name: 'NotificationHandlerError', code: 'ERR_NOTIFICATION_HANDLER_FAILED', messageType: 'syncThrow', sender: 'the primary', workerId: null, isRejection: false, message: workerMessage('syncThrow', 'threw', 'worker sync boom'), cause: 'worker sync boom' },
      { name: 'NotificationHandlerError', code: 'ERR_NOTIFICATION_HANDLER_FAILED', messageType: 'asyncThrow', sender: 'the primary', workerId: null, isRejection: true, message: workerMessage('asyncThrow', 'rejected', 'worker async boom'), cause: 'worker async boom' },
    ]);
    // Heard: no warning besides.
    expect(result.warnings).toEqual([]);
  });

  it("[H705] a returned value is settled as `await` would: a thenable that rejects twice fails once, a throwing `then` getter or Proxy trap is a rejection", async () => {
    const run = spawnScript(kFixture, { env: { MODE: 'thenables' } });
    expect(await run.exited()).toBe(0);
    const line = run.stdout().split('\n').find((text) => text.includes('"result"'));
    const result = JSON.parse(line!) as { workerHeard: Record<string, unknown>[] };
    // Before (hostile t75 F7, F8): 'first reject' and 'second reject' were two failures; the
    // getter's and the trap's throws were not reported at all.
    const heard = result.workerHeard.map(({ messageType, isRejection, cause }) => ({ messageType, isRejection, cause }));
    expect(heard.sort((a, b) => String(a.messageType).localeCompare(String(b.messageType)))).toEqual([
      { messageType: 'thenGetter', isRejection: true, cause: 'then getter boom' },
      { messageType: 'thenProxy', isRejection: true, cause: 'proxy trap boom' },
      { messageType: 'thenTwice', isRejection: true, cause: 'first reject' },
    ]);
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
