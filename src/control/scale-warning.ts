/**
 * The `warning` of a control socket's answer to `scale`: what the scale did that the caller
 * should know, though it scaled (`clusterkit scale` prints it on stderr, the dashboard after its
 * line). Each control socket (`clusterkit run`'s, a `ClusterPrimary` with `serviceName`) answers
 * alike.
 */
import type { ClusterPrimary } from '../primary/cluster-primary.js';
import { healthMinimumWarnings } from '../primary/features/health-minimum.js';
import { namedStopWarning, type ScaleStops } from './stop-counts.js';

/**
 * The named workers the scale stopped (their names are free now), then a count under the health
 * endpoint's `minReady` (H464), as one text; undefined when there is neither. `inFlagNames`:
 * `clusterkit run`'s rewording of option names into its flags' (H359).
 */
export function scaleWarning(primary: ClusterPrimary, count: number, stops: ScaleStops, inFlagNames?: (message: string) => string): string | undefined {
  const warnings = [namedStopWarning(stops), ...healthMinimumWarnings(primary, count, 'scale')].flatMap((warning) => (warning === undefined ? [] : [warning.message]));
  if (warnings.length === 0) return undefined;
  const text = warnings.join(' ');
  return inFlagNames === undefined ? text : inFlagNames(text);
}
