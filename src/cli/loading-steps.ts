/**
 * What a `clusterkit run` worker runs before its bootstrap reports in (the primary's
 * `loadingSteps`, H189), said when it is killed at --ready-timeout or ends still loading.
 * Preloads are named only when the workers have some, by what sets them: with none, the time
 * went to the script's own import, and pointing at preloads sends the reader to look for
 * something that is not there (H215). With none, the Node options given are named (H310).
 */
import { preloadsOf, splitNodeOptions } from '../primary/pool/loader-hint.js';
import { optionNames } from '../primary/pool/node-option-failure.js';

export interface WorkerNodeOptions {
  /** clusterkit's own Node options, which the workers inherit (`node --import=x clusterkit run`). */
  readonly inherited: readonly string[];
  /** `--node-arg` / the config file's `nodeArgs`. */
  readonly nodeArgs: readonly string[];
  /** The workers' NODE_OPTIONS. */
  readonly nodeOptions: string | undefined;
}

const kScriptItself = 'the script itself: its top-level code and the modules it loads';

export function runLoadingSteps({ inherited, nodeArgs, nodeOptions }: WorkerNodeOptions): string {
  const sources = [
    [preloadsOf(nodeArgs), '--node-arg or nodeArgs'],
    [preloadsOf(splitNodeOptions(nodeOptions)), 'NODE_OPTIONS'],
    [preloadsOf(inherited), "clusterkit's own Node options"],
  ] as const;
  const named = sources.filter(([preloads]) => preloads.length > 0).map(([preloads, from]) => `${preloads.join(' ')} from ${from}`);
  if (named.length === 0) return `${kScriptItself}, with no preload before it: ${noPreloadIn(nodeArgs)}`;
  return `Node's preloads: ${named.join(', ')}; then ${kScriptItself}`;
}

/**
 * Where no preload was found: with `--node-arg` given, which options it gave (names only: a
 * value may be a secret), so that "none" is not read as "no --node-arg" (H310).
 */
function noPreloadIn(nodeArgs: readonly string[]): string {
  const names = [...new Set(optionNames(nodeArgs))];
  if (names.length === 0) return 'none in --node-arg or NODE_OPTIONS';
  return `--node-arg or nodeArgs gave ${names.join(' ')}, none of them a preload, and none in NODE_OPTIONS`;
}
