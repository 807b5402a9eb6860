/**
 * What a worker answers to the primary's heartbeat: memory and event-loop delay since the
 * previous answer.
 */
import type { IntervalHistogram } from 'node:perf_hooks';
import { loadPerfHooks } from '../builtins.js';
import type { PingReport } from '../messaging/system-types.js';

const kNanosPerMs = 1e6;

export class HealthProbe {
  /** Created on the first ping, so workers without a heartbeat pay nothing. */
  #delay: IntervalHistogram | undefined;

  report(): PingReport {
    if (!this.#delay) {
      this.#delay = loadPerfHooks().monitorEventLoopDelay({ resolution: 20 });
      this.#delay.enable();
    }
    const memory = process.memoryUsage();
    const delay = this.#delay;
    const report: PingReport = {
      rss: memory.rss,
      heapUsed: memory.heapUsed,
      heapTotal: memory.heapTotal,
      loopDelayMean: delay.count > 0 ? round(delay.mean / kNanosPerMs) : 0,
      loopDelayP99: delay.count > 0 ? round(delay.percentile(99) / kNanosPerMs) : 0,
    };
    delay.reset();
    return report;
  }

  stop(): void {
    this.#delay?.disable();
  }
}

function round(value: number): number {
  return Math.round(value * 100) / 100;
}
