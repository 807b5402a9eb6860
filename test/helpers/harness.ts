/**
 * Driving a primary that runs in its own process (test/fixtures/harness-primary.ts) and reading
 * the JSON lines it and its workers print.
 */
import { onCleanup } from './cleanup.js';
import { jsonLines, kProcessPatienceMs, killSpawned, spawnScript, type Spawned } from './spawn.js';
import { until } from './wait.js';

const started: Harness[] = [];

/**
 * Kills every harness and every worker pid it printed. A harness primary that was SIGKILLed
 * leaves its workers behind if the library failed them, and a blocked orphan would spin forever.
 * Runs after every test (registered by startHarness); tests may call it earlier.
 */
export function killHarnesses(): void {
  killSpawned();
  for (const harness of started.splice(0)) killPrintedPids(harness);
}

function killPrintedPids(harness: Harness): void {
  const pids = harness.events().flatMap((line) => [line.pid, ...((line.pids as unknown[]) ?? [])]);
  for (const pid of pids) {
    try {
      if (typeof pid === 'number') process.kill(pid, 'SIGKILL');
    } catch {
      // already gone
    }
  }
}

export interface HarnessEvent {
  event: string;
  [field: string]: unknown;
}

export interface Harness extends Spawned {
  /** Every JSON line printed so far. */
  events(): HarnessEvent[];
  /** Resolves with the first event named `event` (matching `filter`) that has been or will be printed. */
  waitForEvent(event: string, filter?: (line: HarnessEvent) => boolean, ms?: number): Promise<HarnessEvent>;
  /** Resolves once `count` events named `event` have been printed. */
  waitForCount(event: string, count: number, ms?: number): Promise<HarnessEvent[]>;
}

export function startHarness(env: Record<string, string>, options: { detached?: boolean } = {}): Harness {
  const spawned = spawnScript('test/fixtures/harness-primary.ts', { env, detached: options.detached ?? false });
  const events = (): HarnessEvent[] => jsonLines<HarnessEvent>(spawned.stdout());
  const poll = async <T>(find: () => T | undefined, what: string, ms: number): Promise<T> => {
    let found: T | undefined;
    await until(() => (found = find()) !== undefined, ms, what).catch((error: Error) => {
      throw new Error(`${what} not printed within ${ms} ms. Output:\n${spawned.output()}`, { cause: error });
    });
    return found!;
  };
  const harness: Harness = {
    ...spawned,
    events,
    waitForEvent: (event, filter = () => true, ms = kProcessPatienceMs) => poll(() => events().find((line) => line.event === event && filter(line)), `"${event}"`, ms),
    waitForCount: (event, count, ms = kProcessPatienceMs) =>
      poll(() => {
        const matching = events().filter((line) => line.event === event);
        return matching.length >= count ? matching : undefined;
      }, `${count} x "${event}"`, ms),
  };
  started.push(harness);
  onCleanup(() => killPrintedPids(harness));
  return harness;
}
