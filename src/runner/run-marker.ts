/**
 * Set on `globalThis` by the `clusterkit run` worker bootstrap before it loads the user's
 * script: a script that calls `startClusteredService` would otherwise start a second
 * `ClusterWorker` on the same channel.
 */
export const kRunScriptMarker = Symbol.for('clusterkit.run-script');

/**
 * Called by every `ClusterWorker.start()`: true when this start is one of a script that
 * `clusterkit run` runs. The bootstrap's own worker starts first and takes the marker; a
 * second start, the script's, would run a second lifecycle on the same channel: its `$ready`
 * and `$stopped` break the protocol, which the primary blamed on "another clusterkit version"
 * (tester t20). `Symbol.for`: the script may load another copy of clusterkit's modules.
 */
export function isScriptStartUnderRun(): boolean {
  const global = globalThis as Record<symbol, unknown>;
  if (global[kRunScriptMarker] === true) {
    global[kRunScriptMarker] = 'started';
    return false;
  }
  return global[kRunScriptMarker] === 'started';
}
