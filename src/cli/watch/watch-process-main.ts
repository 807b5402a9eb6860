/**
 * The process `clusterkit run --watch` watches the tree in (H652, H658): the `TreeWatcher`
 * (chokidar) runs here, and what it tells is sent to the primary over the IPC channel in batches
 * (`WatchProcess`).
 *
 * Each file chokidar watches costs its own `fs.watch` and a read of its directory at each change:
 * hostile testers t64b and t65 made and deleted 55,000 files in directories of 1,000 under a
 * watched path, and the primary, on whose thread chokidar ran, was blocked for 8 to 26 s at a
 * time. A process, not a thread (retest t65): a thread's 40,000 watches took 2 s to close one by
 * one at its end, and the primary's exit waited for them (its stop past `--shutdown-timeout`),
 * while a killed process's are let go by the kernel in one go; and the watch's memory is no
 * longer the primary's. VS Code runs its file watcher in a process of its own for the same reasons.
 */
import { TreeWatcher } from './tree-watcher.js';
import { createIgnoreTest } from './watch-ignore.js';
import type { WatchMessage, WatchProcessData, WatchRequest } from './watch-process-protocol.js';

/** Changes sent in one batch at most; more go in the next. */
const kBatchChanges = 1_000;
/** How long a change waits for others to share its batch (ms). */
const kBatchMs = 10;
/** How long after a storm's rescan its garbage is collected (ms): the rescan's own changes told first. */
const kCollectAfterMs = 100;

// Its primary gone (killed, crashed): nothing is left to tell, and no watch outlives it.
process.on('disconnect', () => process.exit(0));

const post = (message: WatchMessage) => {
  if (process.connected) process.send!(message);
};

let batch: Array<[string, string]> = [];
let batchTimer: NodeJS.Timeout | undefined;
const flush = () => {
  clearTimeout(batchTimer);
  batchTimer = undefined;
  if (batch.length === 0) return;
  post({ kind: 'changes', changes: batch });
  batch = [];
};
/** Sends what came before `message` first: a change told before a loss stays before it. */
const postInOrder = (message: WatchMessage) => {
  flush();
  post(message);
};

async function start(data: WatchProcessData): Promise<void> {
  const ignored = createIgnoreTest(data.roots, data.ignore, data.cwd);
  const tree = await TreeWatcher.open(
    data.roots,
    ignored,
    {
      change(event, path) {
        batch.push([event, path]);
        if (batch.length >= kBatchChanges) flush();
        else batchTimer ??= setTimeout(flush, kBatchMs);
      },
      lost: (roots) => postInOrder({ kind: 'lost', roots: [...roots] }),
      back: (roots) => postInOrder({ kind: 'back', roots: [...roots] }),
      replaced: (roots) => postInOrder({ kind: 'replaced', roots: [...roots] }),
      error: (error) => postInOrder({ kind: 'error', message: error.message, code: (error as NodeJS.ErrnoException).code }),
      limited: (leftOut) => postInOrder({ kind: 'limited', directories: [...leftOut.directories], full: [...leftOut.full] }),
      recrawled: (changes) => {
        postInOrder({ kind: 'recrawled', changes });
        // The storm's paths are garbage now: collected at once, its heap given back (retest t65:
        // 20,000 files made then deleted left the watch at 169 MB; with this, 115 MB).
        setTimeout(() => (globalThis as { gc?: () => void }).gc?.(), kCollectAfterMs);
      },
      roomy: () => postInOrder({ kind: 'roomy' }),
    },
    { keep: data.keep, limits: data.limits },
  );
  // The one request after the start: a check. Closing is the process's end (SIGKILL), which ends its watches.
  process.on('message', (request: WatchRequest) => {
    if (request.kind !== 'check') return;
    tree.check().then(
      () => postInOrder({ kind: 'checked', id: request.id }),
      (error: unknown) => postInOrder({ kind: 'checked', id: request.id, error: error instanceof Error ? error.message : String(error) }),
    );
  });
  post({ kind: 'ready', files: tree.files(), missing: tree.missing });
}

process.once('message', (request: WatchRequest) => {
  if (request.kind !== 'start') return;
  start(request.data).catch((error: unknown) => {
    // Its first scan failed: said to the primary, whose open rejects with it; then this process ends.
    const failure: WatchMessage = { kind: 'failed', message: error instanceof Error ? error.message : String(error), code: (error as NodeJS.ErrnoException | undefined)?.code };
    if (process.connected) process.send!(failure, () => process.exit(1));
    else process.exit(1);
  });
});
