/**
 * What a worker answers to the primary's heartbeat: memory and event-loop delay since the
 * previous answer.
 */
import type { IntervalHistogram } from 'node:perf_hooks';
import { loadPerfHooks } from '../builtins.js';
import type { PingReport } from '../messaging/system-types.js';

const kNanosPerMs = 1e6;
/** Sampling period of the delay histogram. */
const kResolutionMs = 20;

export class HealthProbe {
  /** Created on the first ping, so workers without a heartbeat pay nothing. */
  #delay: IntervalHistogram | undefined;

  report(): PingReport {
    if (!this.#delay) {
      this.#delay = loadPerfHooks().monitorEventLoopDelay({ resolution: kResolutionMs });
      this.#delay.enable();
    }
    const memory = process.memoryUsage();
    const delay = this.#delay;
    const report: PingReport = {
      rss: memory.rss,
      heapUsed: memory.heapUsed,
      heapTotal: memory.heapTotal,
      loopDelayMean: delay.count > 0 ? lateness(delay.mean) : 0,
      loopDelayP99: delay.count > 0 ? lateness(delay.percentile(99)) : 0,
    };
    delay.reset();
    return report;
  }

  stop(): void {
    this.#delay?.disable();
  }
}

/**
 * The histogram records the time between two samples, which is the resolution itself on an idle
 * loop: an idle worker would show 20 ms. The delay is what exceeds it.
 */
function lateness(intervalNanos: number): number {
  const ms = Math.max(0, intervalNanos / kNanosPerMs - kResolutionMs);
  return Math.round(ms * 100) / 100;
}
