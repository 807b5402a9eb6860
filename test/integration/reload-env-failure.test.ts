/**
 * A reload with a new env (`primary.reload({ env })`, `clusterkit reload --update-env`) that
 * fails: what its error says of the env (H632, ops tester t63). The replacement that failed did
 * start with the new env (it failed of it), and a slot whose replacement crashed after taking
 * over is restarted with the env from before, which is put back in force: before, the error said
 * "no worker started with the new one" and "worker slot 0 runs the new code and is being
 * restarted with it". Real workers; what each start does is what a file says.
 */
import { describe, expect, it } from '@jest/globals';
import { ReloadError, type WorkerHandle } from '../../src/index.js';
import { recordOf } from '../../src/primary/pool/worker-handle.js';
import { testPrimary } from '../helpers/primary.js';
import { capturedLogger } from '../helpers/captured-logger.js';
import { onceEvent } from '../helpers/wait.js';
import { behaviourFile } from '../helpers/behaviour-file.js';

describe('a reload with a new env that fails', () => {
  it('[H632] whose replacement fails to start: says no worker runs with the new env now, not that none started with it', async () => {
    const good = behaviourFile('ready');
    const primary = testPrimary({ workerCount: 1, env: { INIT_BEHAVIOUR_FILE: good } }, 'workers/init-from-file.ts');
    await primary.start();
    const error = await primary.reload({ env: { INIT_BEHAVIOUR_FILE: behaviourFile('throw') } }).then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(ReloadError);
    expect((error as Error).message).toMatch(/The env in force is still the one from before \(every later fork gets it\); no worker runs with the new one now\.$/);
    expect((error as Error).message).not.toMatch(/no worker started with the new one/);
  });

  it('[H632] whose replacement crashed after taking over: says its slot is restarted with the env from before, and it is', async () => {
    const good = behaviourFile('ready');
    // Wide: the crash 150 ms after ready falls in it, so the reload sees it (H371).
    const { logger, text } = capturedLogger();
    const primary = testPrimary({ workerCount: 1, env: { INIT_BEHAVIOUR_FILE: good }, restart: { startupWindowMs: 5_000, backoff: { initialMs: 50 } }, logger }, 'workers/init-from-file.ts');
    await primary.start();
    const restarted = onceEvent<{ worker: WorkerHandle }>(primary, 'workerRestart', 60_000);
    const error = await primary.reload({ env: { INIT_BEHAVIOUR_FILE: behaviourFile('crash-after-ready') } }).then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(ReloadError);
    const message = (error as Error).message;
    expect(message).toMatch(/worker slot 0 is being restarted, as after any crash, with the code on disk and the env from before this reload \(its new env is not in force: below\)/);
    expect(message).not.toMatch(/runs the new code and is being restarted with it/);
    // And so it is: the restart starts with the env from before, and stays up.
    const { worker } = await restarted;
    await onceEvent(primary, 'workerReady', 60_000, (event: { worker: WorkerHandle }) => event.worker === worker);
    expect(primary.workers).toEqual([worker]);
    expect(recordOf(worker)!.env).toMatchObject({ INIT_BEHAVIOUR_FILE: good });
    // Said (retest t63b: the slot went back to the env from before without a word).
    expect(text()).toMatch(new RegExp(`worker ${worker.id} replaces worker \\d+, with the env in force \\(the one it replaces ran with the env of a reload that failed, which is not in force\\)`));
  });
});
