/**
 * Lines for the primary's own hooks: a `_destroy` that threw or missed its deadline, an
 * `_init` that threw. Before (H249) the log showed only `shutdown complete`, with no word of why.
 */
import { destroyHookOf } from '../destroy-hook.js';
import { HookTimeoutError } from '../errors.js';
import { wholeMs } from '../whole-ms.js';
import type { Logger } from '../logger.js';
import type { ClusterPrimary } from './cluster-primary.js';

export function attachPrimaryHookLogging(primary: ClusterPrimary, logger: Logger): void {
  primary.on('initializeError', ({ error }) => logger.error({ err: error }, `the primary's _init() failed, so no worker was started: ${error.message}`));
  primary.on('destroyComplete', ({ error }) => {
    if (error === undefined) return;
    if (error instanceof HookTimeoutError) {
      // The service runner's primary waits for its user's callbacks, named here: its user wrote no `_destroy` (H694).
      const hook = destroyHookOf(primary);
      const what = hook === '_destroy' ? "the primary's _destroy()" : `the primary's ${hook}`;
      logger.warn({ err: error, timeoutMs: error.timeoutMs }, `${what} did not finish within ${wholeMs(error.timeoutMs)} ms (the shutdown's timeoutMs); the shutdown completes without waiting for it`);
    } else logger.error({ err: error }, `the primary's _destroy() failed: ${error.message}`);
  });
}
