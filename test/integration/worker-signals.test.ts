/**
 * A stray SIGUSR2 reaching a worker itself: nodemon and some tools signal a whole process tree,
 * and Node's default action for SIGUSR2 ends the process. A worker logs it and runs on, as the
 * primary does (signals.test.ts, H69); a worker whose own code listens for it gets it alone.
 * Real workers, real signals, read from the workers' own stderr.
 */
import { describe, expect, it } from '@jest/globals';
import { onCleanup } from '../helpers/cleanup.js';
import { killServices, startService } from '../runner/service-process.js';
import { testPrimary, workerOutput } from '../helpers/primary.js';
import { isAlive } from '../helpers/processes.js';
import { record, until } from '../helpers/wait.js';

const describeOnPosix = process.platform === 'win32' ? describe.skip : describe;

describeOnPosix('a stray SIGUSR2 to a worker', () => {
  it('[H79] is logged and ignored: the worker runs on and answers; one that listens itself, even from after start(), gets it in silence', async () => {
    const primary = testPrimary({ workerCount: 2, silent: true });
    const output = workerOutput(primary);
    const exits = record(primary, 'workerExit');
    const [plain, listening] = await primary.start();
    process.kill(plain!.pid!, 'SIGUSR2');
    const line = `[clusterkit] WARN worker ${plain!.id} (pid ${plain!.pid}): SIGUSR2 ignored: clusterkit reloads the workers on SIGHUP to the primary`;
    await until(() => output.text().includes(line), 30_000, 'the worker to log the SIGUSR2');
    expect(output.text()).toMatch(/SIGUSR2 ignored: .* nodemon restarts with SIGUSR2: give it --signal SIGTERM, or use clusterkit run --watch\. To act on SIGUSR2 in the worker \(heapdump\), listen for it: process\.on\('SIGUSR2', \.\.\.\)\. signal=SIGUSR2 count=1\n/);
    await expect(primary.send(plain!, 'whoami')).resolves.toMatchObject({ pid: plain!.pid });

    // heapdump's way: a listener of the worker's own, added once the worker runs.
    await expect(primary.send(listening!, 'listenUsr2')).resolves.toBe(0);
    process.kill(listening!.pid!, 'SIGUSR2');
    await until(async () => (await primary.send(listening!, 'usr2Count')) === 1, 30_000, "the worker's own listener to run");
    await expect(primary.send(listening!, 'whoami')).resolves.toMatchObject({ pid: listening!.pid });
    expect(output.text()).not.toContain(`(pid ${listening!.pid}): SIGUSR2`);

    expect([plain!.pid!, listening!.pid!].every(isAlive)).toBe(true);
    expect(exits.events).toEqual([]);
    expect(primary.workers.map((worker) => worker.pid)).toEqual([plain!.pid, listening!.pid]);
  });

  it('[H87] in a service (startClusteredService) is logged under the service\'s name, as its other lines are, not as [clusterkit]', async () => {
    onCleanup(killServices);
    const service = startService({ RUNNER_OPTIONS: JSON.stringify({ serviceName: 'usr2-svc', workers: 1, control: false }) });
    const [startup] = await service.waitForLines('onWorkerStartup');
    const pid = startup!.pid as number;
    await service.waitForLines('started');
    process.kill(pid, 'SIGUSR2');
    const line = `[usr2-svc] WARN worker ${startup!.workerId as number} (pid ${pid}): SIGUSR2 ignored: clusterkit reloads the workers on SIGHUP to the primary`;
    await until(() => service.output().includes(line), 30_000, `the worker to log the SIGUSR2 under the service's name in:\n${service.output()}`);
    expect(service.output()).not.toContain('[clusterkit]');
    expect(isAlive(pid)).toBe(true);
  });
});
