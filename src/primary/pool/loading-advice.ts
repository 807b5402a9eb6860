/**
 * What to tell about a worker that never reached its ClusterWorker's start() (no `$hello`):
 * still loading at `readyTimeoutMs`, or ended while loading. The advice depends on who creates
 * the ClusterWorker: a worker script of the library must do it itself; under `clusterkit run`
 * and `startClusteredService` clusterkit's bootstrap does, and a script that did it too would be
 * refused (NotAWorkerError), so telling those users to "create a ClusterWorker" is wrong (H189).
 * `loadingSteps` (the `loadingSteps` option) names what runs before the start in those modes.
 */

/**
 * The `loadingSteps` option: a phrase, or one made of the environment a worker was given (H385:
 * `clusterkit run` names the preloads of that worker's NODE_OPTIONS, which a `reload
 * --update-env` may have changed).
 */
export type LoadingSteps = string | ((env: Readonly<Record<string, string | undefined>>) => string);

/**
 * The phrase for a worker forked with the pool's `env` option `env` (undefined: the primary's
 * own); undefined when the option is unset, or its function throws or gives no text.
 */
export function loadingStepsFor(option: LoadingSteps | undefined, env: Readonly<Record<string, string | undefined>> | undefined): string | undefined {
  if (typeof option !== 'function') return option;
  try {
    const steps = option({ ...process.env, ...env });
    return typeof steps === 'string' && steps.length > 0 ? steps : undefined;
  } catch {
    return undefined;
  }
}

/** The sentence after "was not ready within N ms, so it was killed." */
export function stillLoadingAdvice(loadingSteps: string | undefined): string {
  if (loadingSteps === undefined) {
    // Still loading its script, as far as the primary can tell: no start() yet (H239).
    return 'It had not called ClusterWorker.start() by then: it was still loading its script, or the script never calls start(). A worker script must create a ClusterWorker and call start(), and any await before that call must settle; if the script is only slow to load (large imports, a warm-up before start()), raise the option.';
  }
  return `It was still loading by then (${loadingSteps}); raise the option if that is legitimately slow (a loaded machine, slow code there).`;
}

/** The sentence after "exited with code N before it was ready." */
export function endedWhileLoadingAdvice(loadingSteps: string | undefined, exitCode: number | null, signal: NodeJS.Signals | null): string {
  // Exit code 0: it ran to its end (or was ended) without starting. Any other end: most often
  // an error thrown while its modules loaded (Node exits 1), which its output shows (tester t20).
  const isCleanEnd = exitCode === 0 && signal === null;
  if (loadingSteps === undefined) {
    return isCleanEnd
      ? 'It exited without calling start(): a worker script must create a ClusterWorker and call start().'
      : 'Check its output for the error: it ended before it called ClusterWorker.start(), most often on an error thrown while its modules loaded.';
  }
  return isCleanEnd
    ? `It ended while still loading (${loadingSteps}): code there ended the process.`
    : `Check its output for the error: it ended while still loading (${loadingSteps}), most often on an error thrown there.`;
}
