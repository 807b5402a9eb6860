/**
 * H249: the primary's own `_destroy` is bounded by the shutdown's timeoutMs and a failure of
 * `_destroy` or `_init` is told in the log, not only on events nobody may listen to.
 */
import { describe, expect, it } from '@jest/globals';
import { spawnScript } from '../helpers/spawn.js';

/**
 * Runs the fixture until its result line, and `line` when given: the log lines are on stderr and
 * the result on stdout, two pipes read in either order (the under-load suite read the result
 * before the ERROR line written just before it).
 */
async function run(mode: string, line?: RegExp) {
  const child = spawnScript('test/fixtures/primary-hooks-primary.ts', { env: { PRIMARY_HOOK: mode } });
  const result = await child.waitFor(/\{"event":"result".*\}/);
  if (line !== undefined) await child.waitFor(line);
  return { result: JSON.parse(result[0]) as Record<string, unknown>, output: child.output() };
}

describe("the primary's own hooks", () => {
  it('[H249] a _destroy that never settles: shutdown() settles at its timeoutMs, with a WARN naming it', async () => {
    const { result, output } = await run('destroy-hangs', /WARN.*the primary's _destroy\(\) did not finish/);
    expect(result).toMatchObject({ shutdown: 'settled', graceful: 1 });
    expect(output).toMatch(/WARN.*the primary's _destroy\(\) did not finish within 1500 ms \(the shutdown's timeoutMs\)/);
  });

  it('[H249] a _destroy that throws is logged with its error', async () => {
    const { result, output } = await run('destroy-throws', /ERROR.*the primary's _destroy\(\) failed/);
    expect(result).toMatchObject({ shutdown: 'settled' });
    expect(output).toMatch(/ERROR.*the primary's _destroy\(\) failed: primary destroy failed/);
  });

  it('[H249] an _init that throws is logged with its error', async () => {
    const { result, output } = await run('init-throws', /ERROR.*the primary's _init\(\) failed/);
    expect(result).toMatchObject({ start: 'rejected', message: 'primary init failed' });
    expect(output).toMatch(/ERROR.*the primary's _init\(\) failed, so no worker was started: primary init failed/);
  });

  it('[H427] an _init that throws: the shutdown line does not speak of workers that started, none was forked', async () => {
    const { result, output } = await run('init-throws', /shutting down: the start failed/);
    expect(result).toMatchObject({ start: 'rejected' });
    expect(output).not.toContain('the workers that did start are stopped');
    expect(output).toMatch(/shutting down: the start failed; no worker is running, so none is stopped/);
  });

  it('[H663] shutdown() called in _init, awaited or not: _destroy runs once, after _init returned (hostile t66: awaited, it never ran)', async () => {
    for (const mode of ['init-awaits-shutdown', 'init-calls-shutdown']) {
      const { result, output } = await run(mode);
      expect({ mode, result }).toMatchObject({ mode, result: { start: 'rejected' } });
      expect({ mode, destroyed: output.split('{"event":"destroyed"}').length - 1 }).toEqual({ mode, destroyed: 1 });
      expect(output.indexOf('{"event":"destroyed"}')).toBeLessThan(output.indexOf('{"event":"result"'));
    }
  });
});
