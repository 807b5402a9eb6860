/**
 * What a worker answers to the primary's heartbeat: memory, event-loop delay and CPU use since
 * the previous answer.
 *
 * The delay is sampled by our own timer rather than `perf_hooks.monitorEventLoopDelay`: that
 * histogram's `reset()` also forgets when it last sampled, so a ping answered right after a
 * blocking stretch (the ping was queued behind it) reset the histogram before its timer could
 * record the stretch, and the stall vanished from every report.
 */
import { loadV8 } from '../builtins.js';
import type { PingReport } from '../messaging/system-types.js';
import { memoryUsage } from './memory-usage.js';

/** Sampling period: how late the loop runs a timer of this period is its delay. */
const kResolutionMs = 20;
/** More than a heartbeat interval's worth of samples; beyond it, the oldest are overwritten. */
const kMaxSamples = 1024;

export class HealthProbe {
  /** Created on the first ping, so workers without a heartbeat pay nothing. */
  #sampler: LatenessSampler | undefined;
  /** CPU time and wall time at the previous answer; the first answer measures from process start. */
  #cpuMark: { usage: NodeJS.CpuUsage; at: number } | undefined;

  report(): PingReport {
    // The first answer starts the sampler and measures nothing: a window taken at once would
    // count the time this answer itself took (reading memory on a busy machine) as lateness.
    const isFirst = this.#sampler === undefined;
    this.#sampler ??= new LatenessSampler();
    const memory = memoryUsage();
    const delay = isFirst ? undefined : this.#sampler.takeWindow();
    return {
      rss: memory.rss,
      heapUsed: memory.heapUsed,
      heapTotal: memory.heapTotal,
      heapLimit: heapLimit(),
      // None in the first answer: the sampler has only just started, and 0 would be a guess.
      ...(delay ? { loopDelayMean: round(delay.mean), loopDelayP99: round(delay.p99) } : {}),
      ...this.#cpu(),
    };
  }

  stop(): void {
    this.#sampler?.stop();
  }

  /**
   * CPU time (user + system) used since the previous answer, as a percentage of the wall time
   * between them: 100 is one core fully busy, as `top` and `pm2 monit` count it; and the CPU
   * time used since the process started, in seconds (`clusterkit_worker_cpu_seconds_total`, H375).
   */
  #cpu(): { cpuPercent: number; cpuSeconds: number } {
    const usage = process.cpuUsage();
    const at = performance.now();
    const mark = this.#cpuMark ?? { usage: { user: 0, system: 0 }, at: at - process.uptime() * 1_000 };
    this.#cpuMark = { usage, at };
    const cpuMs = (usage.user - mark.usage.user + usage.system - mark.usage.system) / 1_000;
    const wallMs = at - mark.at;
    return { cpuPercent: wallMs > 0 ? Math.round((cpuMs / wallMs) * 1_000) / 10 : 0, cpuSeconds: (usage.user + usage.system) / 1e6 };
  }
}

/** Lateness of a periodic timer, collected per window between two reports. */
class LatenessSampler {
  readonly #samples = new Float64Array(kMaxSamples);
  #count = 0;
  #lastTickAt = performance.now();
  readonly #timer: NodeJS.Timeout;

  constructor() {
    this.#timer = setInterval(() => this.#tick(), kResolutionMs);
    // Sampling must never keep a stopping worker alive.
    this.#timer.unref();
  }

  /**
   * Lateness in the window since the previous call, in ms; undefined when the window holds no
   * sample yet. The interval still running counts too: when a ping is answered straight after
   * a stall, the timer has not fired yet to see it.
   */
  takeWindow(): { mean: number; p99: number } | undefined {
    const now = performance.now();
    const running = now - this.#lastTickAt - kResolutionMs;
    const samples = Array.from(this.#samples.subarray(0, Math.min(this.#count, kMaxSamples)));
    if (running > 0) {
      samples.push(running);
      // The timer's next tick reports only what comes after this, not the same stall again.
      this.#lastTickAt = now - kResolutionMs;
    }
    this.#count = 0;
    if (samples.length === 0) return undefined;
    samples.sort((a, b) => a - b);
    const sum = samples.reduce((total, sample) => total + sample, 0);
    const p99 = samples[Math.min(samples.length - 1, Math.ceil(samples.length * 0.99) - 1)]!;
    return { mean: sum / samples.length, p99 };
  }

  stop(): void {
    clearInterval(this.#timer);
  }

  #tick(): void {
    const now = performance.now();
    const late = now - this.#lastTickAt - kResolutionMs;
    this.#lastTickAt = now;
    this.#samples[this.#count % kMaxSamples] = late > 0 ? late : 0;
    this.#count += 1;
  }
}

/** `--max-old-space-size` in bytes as the worker was started with it; null without one. Read once: neither source changes. */
let oldSpaceFlag: number | null | undefined;

/**
 * Its heap's limit (`PingReport.heapLimit`, H394): node:v8 is loaded on the first heartbeat, not
 * at start (start-modules.test.ts): about 2 ms and 30 internal modules once, then 4 µs an answer
 * (`getHeapStatistics()`, read each time: a near-heap-limit callback may raise it). The flag,
 * not `heap_size_limit`, when given: `heap_size_limit` adds the young generation's reserve (48 MiB
 * on a 64-bit machine with enough memory), so a 128 MB heap's limit reads 176 MB and the heap
 * V8 aborts on at 128 MB would read 73 % full.
 */
function heapLimit(): number {
  const limit = loadV8().getHeapStatistics().heap_size_limit;
  oldSpaceFlag ??= readOldSpaceFlag();
  return oldSpaceFlag === null ? limit : Math.min(limit, oldSpaceFlag);
}

/** The last `--max-old-space-size` (or `--max_old_space_size`) of `execArgv`, else of `NODE_OPTIONS`: the command line's wins. */
function readOldSpaceFlag(): number | null {
  const lastOf = (args: readonly string[]): number | undefined => {
    let mb: number | undefined;
    args.forEach((arg, index) => {
      const match = /^--max[-_]old[-_]space[-_]size(?:=(\d+))?$/.exec(arg);
      const value = match === null ? undefined : (match[1] ?? args[index + 1]);
      if (value !== undefined && /^\d+$/.test(value) && Number(value) > 0) mb = Number(value);
    });
    return mb;
  };
  const mb = lastOf(process.execArgv) ?? lastOf((process.env.NODE_OPTIONS ?? '').split(/\s+/));
  return mb === undefined ? null : mb * 1024 * 1024;
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
