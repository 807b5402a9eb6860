/**
 * Compile-only checks for what supervision reports: roles, stop outcomes, the new events, the
 * loggers. Each `@ts-expect-error` line must fail to compile.
 */
import { ClusterPrimary, ClusterWorker, ReloadError, createJsonLogger, createLineLogger, type CrashLoopError, type LogLevel, type ReloadReport, type RequestsCutReason, type ShutdownReport, type WorkerHandle, type WorkerRequestsCutEvent } from '../../src/index.js';

async function primarySide(primary: ClusterPrimary) {
  const [io] = await primary.fork({ count: 1, roles: ['io'] });
  // @ts-expect-error the option is `roles` now
  await primary.fork({ tags: ['io'] });
  const roles: readonly string[] = io!.roles;
  const picked: WorkerHandle = primary.roundRobin({ tag: 'uploads', role: 'io' });
  const outcome: 'graceful' | 'failed' | 'killed' = await primary.stopWorker(picked);
  const report: ShutdownReport = await primary.shutdown();
  const failed: readonly WorkerHandle[] = report.failed;
  primary.on('workerDestroyTimeout', ({ worker, timeoutMs, signal }) => void [worker.id, timeoutMs + 1, signal satisfies 'SIGINT' | 'SIGTERM' | undefined]);
  primary.on('workerDrain', ({ worker, connections, spreadMs }) => void [worker.id, connections + 1, spreadMs + 1]);
  primary.on('workerOutputLost', ({ worker, bytes }) => void [worker.id, bytes + 1]);
  // @ts-expect-error bytes is a number
  primary.on('workerOutputLost', ({ bytes }) => void bytes.toUpperCase());
  primary.on('workerSilent', ({ worker, silentMs }) => void [worker.id, silentMs + 1]);
  primary.on('workerSilenceEnd', ({ worker, silentMs }) => void [worker.id, silentMs + 1]);
  // @ts-expect-error a silence has no reason field
  primary.on('workerSilent', ({ reason }) => void reason);
  primary.on('workerRequestsCut', ({ worker, openRequests, timeoutMs }) => void [worker.id, openRequests + 1, timeoutMs satisfies number | undefined]);
  primary.on('workerRequestsCut', (event: WorkerRequestsCutEvent) => {
    const reason: RequestsCutReason = event.reason;
    // @ts-expect-error the reasons are a closed set
    const wrong: RequestsCutReason = 'crash';
    void [reason, wrong];
  });
  const cut: number = report.requestsCut;
  // Restarts a shutdown cancelled while they waited out their back-off, set only when there was one (H454).
  const cancelled: number | undefined = report.restartsCancelled;
  void cancelled;
  new ClusterPrimary({ instanceVar: 'NODE_APP_INSTANCE' });
  // @ts-expect-error the variable's name is a string
  new ClusterPrimary({ instanceVar: true });
  primary.on('shutdownForced', ({ signal, firstSignal, killed, openRequests }) => void [signal, firstSignal?.toLowerCase(), killed.length, openRequests ?? 0]);
  primary.on('reloadComplete', ({ replaced, retired, stopped }) => void [replaced, retired, stopped.graceful, stopped.failed, stopped.killed]);
  // Slots started again that failed again (H517): set only when there was one.
  primary.on('reloadComplete', ({ refillsFailed }) => void ((refillsFailed satisfies number | undefined) ?? 0));
  // Slots given up in a crash loop that it started again (H712): set only when there was one.
  primary.on('reloadComplete', ({ refilled }) => void ((refilled satisfies number | undefined) ?? 0));
  // reload() resolves with what reloadComplete carries (newcomer t78).
  const reloaded: ReloadReport = await primary.reload();
  void [reloaded.replaced, reloaded.stopped.graceful, reloaded.vacant satisfies number | undefined];
  primary.on('workerExit', ({ killedFor }) => void (killedFor satisfies Error | undefined)?.message);
  primary.on('reloadFailed', ({ error }) => {
    if (error instanceof ReloadError) void [error.isNothingServing satisfies boolean, error.isShutdown, error.isSuperseded, error.workers satisfies number | undefined, error.replaced satisfies number | undefined];
  });
  primary.on('crashLoop', ({ reason, error }) => {
    const why: 'startup-failures' | 'too-many-restarts' | 'memory-limit' = reason;
    const hint: string | undefined = (error as CrashLoopError).hint;
    void [why, hint];
  });
  primary.on('slotChange', ({ slot, name, worker, previous, reason }) => {
    const why: 'start' | 'restart' | 'replace' = reason;
    // @ts-expect-error the slot's first worker has no previous one
    void previous.id;
    void [slot + 1, name ?? '', worker.id, previous?.id, why];
  });
  const delay: number | undefined = picked.health?.eventLoopDelayMs;
  return [roles, outcome, failed, delay, cut];
}
void primarySide;

class Worker extends ClusterWorker {
  describe(): string {
    // @ts-expect-error the worker's attribute is `roles` now
    void this.tags;
    return this.roles.join(',');
  }
}
void Worker;

const level: LogLevel = 'fatal';
const lines: string[] = [];
createLineLogger({ level, stream: { write: (line: string) => lines.push(line) } });
createJsonLogger({ level: 'silent', stream: process.stdout });
// @ts-expect-error not a level
createJsonLogger({ level: 'verbose' });
new ClusterPrimary({ workerCount: 0 });

// scaleComplete and reloadJoined (issue: reload truth): a scale's outcome as a ShutdownReport; a joined reload says whether it was queued (H374).
{
  const scaled = new ClusterPrimary({ workerCount: 2 });
  scaled.on('scaleComplete', ({ from, to, stopped }) => {
    const counts: number[] = [from, to, stopped.graceful.length, stopped.failed.length, stopped.killed.length, stopped.requestsCut];
    void counts;
  });
  // @ts-expect-error scaleComplete has no `count`
  scaled.on('scaleComplete', ({ count }) => void count);
  scaled.on('reloadJoined', (event) => void event);
  scaled.on('reloadJoined', ({ queued }) => {
    const isQueued: boolean = queued;
    void isQueued;
  });
  scaled.on('reloadWaiting', ({ waitMs, windowMs }) => void (waitMs + windowMs));
  // @ts-expect-error the event is reloadJoined
  scaled.on('reloadJoin', () => {});
}
