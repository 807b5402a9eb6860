/**
 * The watch debounce has a maximum wait: a file written without pause in a watched directory
 * cannot put a reload off forever, and it is named once with the way out (--ignore-watch).
 * Real chokidar on a real directory; the cluster is replaced by a recorder of reload calls
 * (watch.test.ts runs the whole CLI under load).
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from '@jest/globals';
import type { Logger } from '../../src/logger.js';
import { maxWatchWaitMs, watchAndReload } from '../../src/cli/watch/watch-reload.js';
import { until } from '../helpers/wait.js';

const cleanups: Array<() => unknown> = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

function recordingLogger(): { logger: Logger; lines: string[] } {
  const lines: string[] = [];
  const at = (level: string) => (_fields: object, message?: string) => lines.push(`${level} ${message ?? ''}`);
  return { logger: { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') }, lines };
}

async function watchedProject(delayMs: number) {
  const directory = mkdtempSync(join(tmpdir(), 'ck-watch-'));
  cleanups.push(() => rmSync(directory, { recursive: true, force: true }));
  writeFileSync(join(directory, 'server.js'), '// v1\n');
  const reloads: number[] = [];
  const { logger, lines } = recordingLogger();
  const stop = await watchAndReload({ paths: [directory], ignore: [], delayMs }, { reload: async () => void reloads.push(Date.now()) }, directory, logger);
  cleanups.push(stop);
  return { directory, reloads, lines };
}

describe('watch debounce', () => {
  it('waits at most max(1 s, 3 × the delay)', () => {
    expect(maxWatchWaitMs(300)).toBe(1_000);
    expect(maxWatchWaitMs(2_000)).toBe(6_000);
  });

  it('reloads once after a quiet delay, without a warning', async () => {
    const { directory, reloads, lines } = await watchedProject(200);
    writeFileSync(join(directory, 'server.js'), '// v2\n');
    await until(() => reloads.length === 1, 10_000, 'the reload');
    expect(lines.filter((line) => line.startsWith('warn'))).toEqual([]);
    expect(lines.at(-1)).toBe('info change detected in server.js: reloading the workers one by one');
  });

  it('reloads even while a file is written without pause, and names that file once', async () => {
    const { directory, reloads, lines } = await watchedProject(400);
    // Every 40 ms: never the 400 ms of quiet a plain debounce waits for.
    let writes = 0;
    const writer = setInterval(() => writeFileSync(join(directory, 'busy.db'), `${writes++}\n`), 40);
    cleanups.push(() => clearInterval(writer));
    writeFileSync(join(directory, 'server.js'), '// v2\n');
    await until(() => reloads.length >= 2, 20_000, 'two reloads while busy.db is being written');
    expect(lines).toContainEqual(expect.stringMatching(/^info change detected in (server\.js, busy\.db|busy\.db, server\.js)/));
    const warnings = lines.filter((line) => line.startsWith('warn'));
    // Under a heavy load the writer may pause long enough for a plain quiet reload; then no warning is due.
    expect(warnings.length).toBeLessThanOrEqual(1);
    if (warnings.length === 1) {
      expect(warnings[0]).toBe(
        'warn busy.db kept changing for 1200 ms without a quiet 400 ms: reloading anyway; if they are not code, leave them out with --ignore-watch (ignoreWatch in the config file)',
      );
    }
  });
});
