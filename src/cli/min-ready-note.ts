/**
 * `minReady: 5` or `--min-ready 5` (H359): a duration without a unit is milliseconds, as every
 * duration of clusterkit's, so 5 is 5 ms, and a replacement that crashes soon after its start
 * replaces the good worker all the same. Kubernetes' `minReadySeconds: 5` counts seconds, and
 * `listenHealth()`'s `minReady` counts workers: a value copied from either turned the wait off
 * without a word (`clusterkit show` said `min ready 5ms`). Under a second, such a value is said
 * as the cluster starts, with how to write seconds; a unit (`'5ms'`) says it is meant, and 0 is off.
 */
import { basename } from 'node:path';

/** A bare `minReady` under this is said at the start: a second is the least a crash soon after ready needs to show. */
export const kBareMinReadyWarnMs = 1_000;

/**
 * The start's warning for a `minReadyMs` of `ms` written without a unit; undefined when there is
 * nothing to say. `configFile`: the file that set it, when no flag replaced it.
 */
export function bareMinReadyWarning(ms: number | undefined, isBare: boolean | undefined, configFile: string | undefined): string | undefined {
  if (isBare !== true || ms === undefined || ms <= 0 || ms >= kBareMinReadyWarnMs) return undefined;
  const file = configFile === undefined ? undefined : basename(configFile);
  const written = file === undefined ? `--min-ready ${ms}` : `minReady: ${ms} in ${file}`;
  // In a JSON file, as JSON writes it (H372: `'5s'` is no JSON); in a JS or TS one, as JS does.
  const asWritten = (value: string) => (file === undefined ? `--min-ready ${value}` : /\.json$/i.test(file) ? `"minReady": "${value}"` : `minReady: '${value}'`);
  const [seconds, kept] = [asWritten(`${ms}s`), asWritten(`${ms}ms`)];
  return (
    `${written} is ${ms} ms (a duration without a unit is milliseconds): a reload's replacement has to stay up only ${ms} ms once ready before the worker it replaces stops, ` +
    `too short for a build that crashes soon after its start to show it. For ${ms} seconds, as Kubernetes' minReadySeconds: ${ms} counts them, write ${seconds}; ` +
    `to keep ${ms} ms, write ${kept}. It is no number of workers either (listenHealth()'s minReady is).`
  );
}
