/**
 * The thread `clusterkit run --watch` watches the tree in (H652): the `TreeWatcher` (chokidar)
 * runs here, and what it tells is posted to the primary's thread in batches (`WatchThread`).
 *
 * Each file chokidar watches costs its own `fs.watch` and a read of its directory at each change:
 * hostile testers t64b and t65 made and deleted 55,000 files in directories of 1,000 under a
 * watched path, and the primary, on whose thread chokidar ran, was blocked for 8 to 26 s at a
 * time: no HTTP request passed, `clusterkit status` got no answer, and a SIGTERM took twice its
 * `--shutdown-timeout`. Here that work blocks this thread alone; the primary's thread takes in
 * one batch of paths at a time, and a shutdown ends the thread at once (`Worker.terminate()`).
 * VS Code runs its file watcher apart from its main process for the same reason.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { TreeWatcher } from './tree-watcher.js';
import { createIgnoreTest } from './watch-ignore.js';
import type { ThreadRequest, ThreadMessage, WatchThreadData } from './watch-thread-protocol.js';

/** Changes posted in one batch at most; more go in the next. */
const kBatchChanges = 1_000;
/** How long a change waits for others to share its batch (ms). */
const kBatchMs = 10;

const port = parentPort!;
const data = workerData as WatchThreadData;
const post = (message: ThreadMessage) => port.postMessage(message);

let batch: Array<[string, string]> = [];
let batchTimer: NodeJS.Timeout | undefined;
const flush = () => {
  clearTimeout(batchTimer);
  batchTimer = undefined;
  if (batch.length === 0) return;
  post({ kind: 'changes', changes: batch });
  batch = [];
};
/** Posts what came before `message` first: a change told before a loss stays before it. */
const postInOrder = (message: ThreadMessage) => {
  flush();
  post(message);
};

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
    recrawled: (changes) => postInOrder({ kind: 'recrawled', changes }),
    roomy: () => postInOrder({ kind: 'roomy' }),
  },
  { keep: data.keep, limits: data.limits },
);

// The one request: a check. Closing is the thread's end (`Worker.terminate()`), which ends its watches.
port.on('message', (request: ThreadRequest) => {
  tree.check().then(
    () => postInOrder({ kind: 'checked', id: request.id }),
    (error: unknown) => postInOrder({ kind: 'checked', id: request.id, error: error instanceof Error ? error.message : String(error) }),
  );
});
post({ kind: 'ready', files: tree.files(), missing: tree.missing });
