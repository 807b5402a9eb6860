/**
 * An orphaned worker (its primary SIGKILLed, a real primary process: fixtures/harness-primary.ts)
 * drains its open requests for the cluster's shutdownTimeoutMs, which the primary hands it at
 * fork, not the worker's destroyTimeoutMs (1.5 s); past it, it cuts what is still open and exits:
 * no orphan outlives the timeout by more than a margin. It says both on its own stderr (H397).
 */
import { describe, expect, it } from '@jest/globals';
import { startHarness } from '../helpers/harness.js';
import { get } from '../helpers/http.js';
import { freePort } from '../helpers/ports.js';
import { waitUntilGone } from '../helpers/processes.js';
import { until } from '../helpers/wait.js';

async function orphanWithRequest(shutdownTimeoutMs: number, requestMs: number) {
  const port = await freePort();
  const harness = startHarness({
    HARNESS_OPTIONS: JSON.stringify({ workerCount: 1, heartbeat: false, shutdownTimeoutMs }),
    HARNESS_WORKER: 'workers/slow-http.ts',
    PORT: String(port),
  });
  const started = await harness.waitForEvent('started');
  const [pid] = started.pids as number[];
  const held = get(`http://127.0.0.1:${port}/?ms=${requestMs}`, 60_000).catch((error: Error) => error);
  await harness.waitForEvent('request');
  process.kill(started.pid as number, 'SIGKILL');
  return { harness, pid: pid!, primaryPid: started.pid as number, held, killedAt: Date.now() };
}

describe('orphan protection: the drain of an orphan', () => {
  it('[H397] primary SIGKILLed with shutdownTimeoutMs 10 s: a 3 s request in flight is answered, then the worker exits, and its stderr says so', async () => {
    const { harness, pid, primaryPid, held } = await orphanWithRequest(10_000, 3_000);
    // Before: ECONNRESET about 1.5 s after the kill (destroyTimeoutMs).
    await expect(held).resolves.toMatchObject({ status: 200, body: String(pid) });
    await waitUntilGone([pid], 30_000);
    await until(() => /stopped on its own/.test(harness.stderr()), 20_000, "the orphan's last line");
    expect(harness.stderr()).toContain(
      `[clusterkit] WARN worker 1 (pid ${pid}): its primary (pid ${primaryPid}) is gone (killed or crashed: its IPC channel closed); it stops on its own (orphan protection): 1 request open, given up to 10000 ms (the cluster's shutdown timeout) to finish, then it exits\n`,
    );
    expect(harness.stderr()).toMatch(new RegExp(`\\[clusterkit\\] WARN worker 1 \\(pid ${pid}\\) stopped on its own \\d+ ms after its primary was gone: no request was cut off\\n`));
  });

  it('[H397] primary SIGKILLed with shutdownTimeoutMs 2 s: a request that outlasts it is cut off at 2 s, the worker exits, and its stderr says what it cut', async () => {
    const { harness, pid, held, killedAt } = await orphanWithRequest(2_000, 60_000);
    await expect(held).resolves.toHaveProperty('code', 'ECONNRESET');
    // Not before the timeout: the drain had its 2 s (less the slice kept for _destroy, a tenth).
    expect(Date.now() - killedAt).toBeGreaterThanOrEqual(1_700);
    // Bounded: the orphan goes (generous bound for a loaded machine; the watchdog's own is 2 s + 1.1 s).
    await waitUntilGone([pid], 30_000);
    await until(() => /stopped on its own/.test(harness.stderr()), 20_000, "the orphan's last line");
    expect(harness.stderr()).toMatch(
      new RegExp(
        `\\[clusterkit\\] WARN worker 1 \\(pid ${pid}\\) stopped on its own \\d+ ms after its primary was gone: it cut off 1 request still open at its deadline \\(2000 ms\\)\\. ` +
          // The option that set its time, not every spelling of it (H695: the CLI's were listed too).
          'Raise the shutdownTimeoutMs option if requests take longer\\n',
      ),
    );
  });
});
