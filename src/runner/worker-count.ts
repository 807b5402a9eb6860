/**
 * How many workers `startClusteredService` and `clusterkit run` start: one rule for both.
 *
 * - A number is always honoured, and so is `'max'`: one per CPU, whatever NODE_ENV says, as
 *   PM2's `-i max`.
 * - Unset or `'auto'`: one worker in development mode, else one per CPU (`'auto'`).
 * - Development mode: asked for (`dev: true`, `--dev`), or, unless `dev: false`, whenever
 *   `NODE_ENV` (the workers', so `--env NODE_ENV=production` counts) is not `production`.
 *
 * The decision is logged once, with its reason, before any worker starts.
 */
import { autoWorkerCount } from '../primary/pool/cpu-limit.js';
import { perCpuReason } from '../primary/worker-count-line.js';

export interface WorkerCountDecision {
  readonly count: number;
  /** Development mode chose the count (1). */
  readonly isDev: boolean;
  /** Why: a clause for `starting 1 worker: <reason>`. */
  readonly reason: string;
}

export interface WorkerCountRequest {
  /** The count asked for, or `'auto'` / undefined (not given). */
  readonly workers: number | 'auto' | 'max' | undefined;
  /** `dev` / `--dev` as given: undefined when not given. */
  readonly dev: boolean | undefined;
  /** The `NODE_ENV` the workers get. */
  readonly nodeEnv: string | undefined;
  /** How the caller spells development mode, for the reason: `dev: true`, `--dev`. */
  readonly devOption: string;
  /** The ceiling (`maxWorkers`): `'auto'` never asks for more. */
  readonly maxWorkers: number;
  /**
   * What set `workers`: `instances: -1 in ecosystem.config.js, every CPU but 1` (H203),
   * `--workers 3 on the command line`, `the "workers" option` (H226). Undefined when nothing did.
   */
  readonly source?: string | undefined;
}

export function decideWorkerCount({ workers, dev, nodeEnv, devOption, maxWorkers, source }: WorkerCountRequest): WorkerCountDecision {
  if (typeof workers === 'number') return { count: workers, isDev: false, reason: source ?? 'the configured count' };
  if (workers === 'max') return perCpuCount(maxWorkers, source ?? '"max"');
  if (dev === true) return { count: 1, isDev: true, reason: `development mode (${devOption})` };
  if (dev === undefined && nodeEnv !== 'production') {
    const env = nodeEnv === undefined ? 'NODE_ENV is not set' : `NODE_ENV is ${JSON.stringify(nodeEnv)}`;
    return { count: 1, isDev: true, reason: `development mode, because ${env}; set NODE_ENV=production, or a worker count ("max": one per CPU), for more` };
  }
  // Left out (or `auto` where no source is known): the default, said so, not a count someone set (H226).
  return perCpuCount(maxWorkers, source ?? 'the default');
}

/** `asked`: the word that asked for it, when one did (`"max"`). */
function perCpuCount(maxWorkers: number, asked?: string): WorkerCountDecision {
  const perCpu = autoWorkerCount();
  return { count: Math.min(perCpu, maxWorkers), isDev: false, reason: perCpuReason(perCpu, maxWorkers, asked) };
}
