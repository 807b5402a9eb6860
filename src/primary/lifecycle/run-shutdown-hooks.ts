/**
 * Runs shutdown hooks (closing the sticky listener, the health endpoint) each with a bound. A
 * close that does not settle within `budgetMs` is abandoned with a warning that names it
 * (`HookTimeoutError`): before (H245), the sticky listener's close waited on a Node callback
 * that never came, and shutdown never reached the workers' stop nor its own deadline.
 */
import { HookTimeoutError } from '../../errors.js';
import { toError } from '../../to-error.js';

export interface ShutdownHook {
  /** The call it runs, named as the user made it: `listenSticky({ port: 4460 }).close`. */
  readonly name: string;
  readonly run: () => Promise<void>;
}

export async function runShutdownHooks(
  hooks: readonly ShutdownHook[],
  budgetMs: number,
  reportError: (error: Error) => void,
  reportWarning: (error: Error) => void,
): Promise<void> {
  await Promise.all(hooks.map((hook) => runBounded(hook, budgetMs, reportError, reportWarning)));
}

async function runBounded(hook: ShutdownHook, budgetMs: number, reportError: (error: Error) => void, reportWarning: (error: Error) => void): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), budgetMs);
  });
  try {
    // A hook that throws at once counts as one that rejects.
    const outcome = await Promise.race([Promise.resolve().then(hook.run), timedOut]);
    if (outcome === 'timeout') reportWarning(new HookTimeoutError(hook.name, budgetMs));
  } catch (error) {
    reportError(toError(error));
  } finally {
    clearTimeout(timer);
  }
}
