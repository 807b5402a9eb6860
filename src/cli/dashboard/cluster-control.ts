/**
 * The dashboard's reload and scale, through the cluster's control socket, answered as the page
 * shows them: the counts and the sentence `clusterkit reload|scale` prints (control-outcome.ts).
 */
import { controlRequest } from '../../control/control-client.js';
import { describeReload, describeScale, reloadOutcome, scaleOutcome, scaleWarning, servingWorkers, type ReloadReply, type ScaleReply, type StopOutcome } from '../control-outcome.js';
import type { DashboardControl } from './dashboard-server.js';

/** `POST /api/reload` answers this (200). */
export interface ReloadAnswer extends StopOutcome {
  /** Workers replaced. */
  readonly workers: number;
  /** `reloaded web: 2 workers replaced, no request cut off`, or what went wrong. */
  readonly message: string;
}

/** `POST /api/scale` answers this (200). */
export interface ScaleAnswer extends StopOutcome {
  readonly count: number;
  /** The pids of the workers after the scale. */
  readonly pids: number[];
  /** `scaled web to 1 worker (pid 3775)`, or what went wrong. */
  readonly message: string;
}

/** `directory`: the control directory (tests); the user's by default. */
export function clusterControl(name: string, directory?: string): DashboardControl {
  const where = directory === undefined ? {} : { directory };
  return {
    reload: async (updateEnv = false): Promise<ReloadAnswer> => {
      const reply = (await controlRequest(name, 'reload', updateEnv ? { ...where, updateEnv } : where)) as ReloadReply;
      return { workers: reply.workers, ...reloadOutcome(reply), message: describeReload(name, reply) };
    },
    scale: async (count: number): Promise<ScaleAnswer> => {
      const reply = (await controlRequest(name, 'scale', { ...where, count })) as ScaleReply;
      const pids = Array.isArray(reply.workers) ? servingWorkers(reply.workers).map((worker) => worker.pid).filter((pid): pid is number => pid !== undefined) : [];
      return { count, pids, ...scaleOutcome(reply), message: [describeScale(name, count, reply), scaleWarning(reply)].filter((line) => line !== undefined).join('; warning: ') };
    },
  };
}
