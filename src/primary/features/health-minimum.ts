/**
 * The `minReady` of each open health endpoint of a primary, so that a worker count below it is
 * said at the call that sets it (H464): `scale(1)` under `minReady: 2` left `/readyz` at 503
 * "1 of 2 required workers ready" for good, without a word, and Kubernetes took the pod out of
 * its Service. A warning, not a refusal: scaling down on purpose (to free memory, to debug) is
 * the operator's call, and a refusal would leave no way to do it without a restart.
 */
import { ReadinessUnreachableError } from '../../errors.js';
import { plural } from '../../plural.js';

/**
 * One endpoint's minimum. An endpoint with a `role` counts only the workers of slots with that
 * role: `withRole()` counts them (newcomer tester t63: a scale-down that stopped a "web" worker
 * left `/readyz` at 503 for good, without a word, and a scale-up forks workers with no role).
 */
export interface HealthMinimum {
  readonly minReady: number;
  readonly port: number;
  readonly role?: string | undefined;
  /** Slots whose workers have `role` now, with a `role`. */
  readonly withRole?: (() => number) | undefined;
}

const minima = new WeakMap<object, Set<HealthMinimum>>();

/** Records `minimum` for `primary` until the returned function is called (the endpoint closed). */
export function trackHealthMinimum(primary: object, minimum: HealthMinimum): () => void {
  let set = minima.get(primary);
  if (set === undefined) minima.set(primary, (set = new Set()));
  set.add(minimum);
  return () => set.delete(minimum);
}

/**
 * The warnings for running `workers` workers under the open health endpoints of `primary`: one
 * per endpoint that cannot be ready (retest t63b: of two endpoints short at a scale only one was
 * told). `at`: `'scale'` for a scale to that count, `'start'` for the count the primary starts
 * or runs with as the endpoint `opened` opens: that endpoint alone is checked then (the others
 * were told at their own opening, or their scale). A role's endpoint is checked at a scale only:
 * its workers come from `fork()` calls after the endpoint opens, as often as not.
 */
export function healthMinimumWarnings(primary: object, workers: number, at: 'scale' | 'start', opened?: HealthMinimum): ReadinessUnreachableError[] {
  const checked = at === 'start' ? (opened === undefined ? [] : [opened]) : [...(minima.get(primary) ?? [])];
  return checked.flatMap((minimum) => {
    if (minimum.role !== undefined && at === 'start') return [];
    const counted = minimum.role === undefined ? workers : (minimum.withRole?.() ?? 0);
    return counted < minimum.minReady ? [shortWarning(minimum, counted, workers, at)] : [];
  });
}

function shortWarning(minimum: HealthMinimum, counted: number, workers: number, at: 'scale' | 'start'): ReadinessUnreachableError {
  const count = `${workers} worker${workers === 1 ? '' : 's'}`;
  const what = at === 'scale' ? `Scaled to ${count}` : `The cluster runs ${count}`;
  const { minReady, port } = minimum;
  if (minimum.role !== undefined) {
    const role = JSON.stringify(minimum.role);
    const withRole = `${counted === 0 ? 'none' : counted} of them with the role ${role}`;
    return new ReadinessUnreachableError(
      counted,
      minReady,
      port,
      `${what}, ${withRole}, fewer than the ${minReady} ready ${role} workers the health endpoint on port ${port} requires (minReady, role): ` +
        `/readyz answers 503 ('${counted} of ${minReady} required ${role} workers ready') for as long as that lasts, and Kubernetes keeps the pod out of its Service. ` +
        `A scale-up forks workers with no role: to have it ready, fork ${role} workers (primary.fork({ roles: [${role}] })), or lower the minimum.`,
      minimum.role,
    );
  }
  const rest = at === 'scale' ? `scale to ${minReady} or more, or lower the minimum` : `run ${plural(minReady, 'worker')} or more, or lower the minimum`;
  return new ReadinessUnreachableError(
    workers,
    minReady,
    port,
    `${what}, fewer than the ${minReady} ready workers the health endpoint on port ${port} requires (minReady): ` +
      `/readyz answers 503 "${workers} of ${minReady} required workers ready" for as long as that lasts, and Kubernetes keeps the pod out of its Service. To have it ready, ${rest}.`,
  );
}
