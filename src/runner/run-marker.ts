/**
 * Set on `globalThis` by the `clusterkit run` worker bootstrap before it loads the user's
 * script: a script that calls `startClusteredService` would otherwise start a second
 * `ClusterWorker` on the same channel.
 */
export const kRunScriptMarker = Symbol.for('clusterkit.run-script');
