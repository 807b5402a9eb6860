/**
 * A request to a worker the primary killed for not answering heartbeats (hostile t68 F6): its
 * `WorkerExitedError` said `was killed by SIGKILL`, the words of an outside `kill -9` or an OOM
 * kill, while the primary's log knew why. Now it says the primary killed it, and why, with the
 * primary's reason as its `cause`.
 */
import { describe, expect, it } from '@jest/globals';
import { WorkerExitedError, WorkerUnresponsiveError, type RemoteError } from '../../src/index.js';
import { testPrimary } from '../helpers/primary.js';
import { onceEvent } from '../helpers/wait.js';

describe('a request to a worker the primary killed', () => {
  it('[H681][H717] says the primary killed it for unanswered heartbeats, with the reason as its cause, not a bare "killed by SIGKILL"', async () => {
    // 2 s of silence: reached while the worker blocks for a minute; not by a busy machine's slow worker.
    const primary = testPrimary({ heartbeat: { intervalMs: 200, timeoutMs: 2_000 }, restart: { backoff: { initialMs: 60_000 } } });
    const [worker] = await primary.start();
    const killed = onceEvent(primary, 'workerUnresponsive', 60_000);
    const exited = onceEvent(primary, 'workerExit', 60_000);
    const blocked = primary.send(worker!, 'block', { ms: 60_000 }, { timeoutMs: 120_000 }).catch((error: unknown) => error);
    await killed;
    const error = (await blocked) as WorkerExitedError;
    expect(error).toBeInstanceOf(WorkerExitedError);
    expect(error.message).toMatch(new RegExp(`^Worker ${worker!.id} \\(pid ${worker!.pid}\\) was killed by the primary \\(SIGKILL\\): it did not answer heartbeats for [\\d.]+ m?s before it replied to "block"`));
    expect(error.signal).toBe('SIGKILL');
    expect((error.cause as Error).message).toMatch(/did not answer heartbeats for .*, so the primary killed it \(SIGKILL\) as unresponsive/);
    // [H717] A typed reason, with a code (newcomer t78, hostile t79: a plain Error before).
    expect(error.cause).toBeInstanceOf(WorkerUnresponsiveError);
    const { killedFor } = await exited;
    expect(killedFor).toBe(error.cause);
    expect(killedFor).toMatchObject({ name: 'WorkerUnresponsiveError', code: 'ERR_WORKER_UNRESPONSIVE', peer: `worker ${worker!.id} (pid ${worker!.pid})`, silentMs: expect.any(Number) });
  }, 90_000);

  it('[H681] so does a sendTo() to it, relayed by the primary (retest t68b: "killed by SIGKILL" there)', async () => {
    const primary = testPrimary({ workerCount: 0, heartbeat: { intervalMs: 200, timeoutMs: 2_000 }, restart: { backoff: { initialMs: 60_000 } } });
    await primary.start();
    await primary.fork({ name: 'victim' });
    const [sender] = await primary.fork({ name: 'sender' });
    const killed = onceEvent(primary, 'workerUnresponsive', 60_000);
    const relayed = primary.send(sender!, 'relay', { target: 'victim', type: 'block', payload: { ms: 60_000 }, timeoutMs: 120_000 }, { timeoutMs: 120_000 }).catch((error: unknown) => error);
    await killed;
    const error = (await relayed) as RemoteError;
    expect(error).toMatchObject({ remoteName: 'WorkerExitedError', remoteCode: 'ERR_WORKER_EXITED' });
    expect(error.remoteMessage).toMatch(/was killed by the primary \(SIGKILL\): it did not answer heartbeats for [\d.]+ m?s before it replied to "block"/);
  }, 90_000);
});
