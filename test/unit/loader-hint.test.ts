import { describe, expect, it } from '@jest/globals';
import { CrashLoopError, ServiceStartError, WorkerStartupError } from '../../src/errors.js';
import { typeScriptLoaderHint } from '../../src/primary/pool/loader-hint.js';

describe('the TypeScript loader hint', () => {
  it('is given for a TypeScript script when no Node option can load it', () => {
    for (const script of ['/srv/a.ts', '/srv/a.mts', '/srv/a.cts', '/srv/a.tsx']) {
      expect(typeScriptLoaderHint([script], [], undefined)).toBe(
        `${script} is TypeScript, and the workers run without a TypeScript loader: add one to their Node options, such as --import tsx (execArgv: ['--import', 'tsx']; clusterkit run: --node-arg=--import=tsx).`,
      );
    }
    // The CLI's workers run its bootstrap, with the user's script as the first argument.
    expect(typeScriptLoaderHint(['/pkg/dist/cli/worker-main.js', '/srv/a.ts'], ['--enable-source-maps'], '')).toContain('/srv/a.ts is TypeScript');
  });

  it('is left out for JavaScript, or when a loader may be there (execArgv or NODE_OPTIONS)', () => {
    expect(typeScriptLoaderHint(['/srv/a.js', undefined], [], undefined)).toBeUndefined();
    expect(typeScriptLoaderHint(['/srv/a.d.ts.js'], [], undefined)).toBeUndefined();
    for (const execArgv of [['--import', 'tsx'], ['--import=tsx'], ['--loader', 'ts-node/esm'], ['-r', 'ts-node/register'], ['--experimental-strip-types']]) {
      expect(typeScriptLoaderHint(['/srv/a.ts'], execArgv, undefined)).toBeUndefined();
    }
    expect(typeScriptLoaderHint(['/srv/a.ts'], [], '--max-old-space-size=512 --import=tsx')).toBeUndefined();
  });

  it('[H434] is the advice alone in .hint; each error that says it ends its message with " Hint: " and it, no white space after', () => {
    const hint = typeScriptLoaderHint(['/srv/a.ts'], [], undefined);
    expect(hint).toMatch(/^\/srv\/a\.ts is TypeScript/);
    const startup = new WorkerStartupError(1, 'exited', 'Worker 1 (pid 7) exited with code 1 before it was ready. Check its output for the error.', { hint });
    const loop = new CrashLoopError(0, 3, { cause: startup, reason: 'startup-failures', remainingSlots: 0, hint });
    const service = new ServiceStartError('api', 'its workers could not start', { cause: loop, hint });
    expect(startup.hint).toBe(hint);
    expect(loop.hint).toBe(hint);
    for (const error of [startup, loop, service]) {
      expect(error.message.endsWith(`. Hint: ${hint}`)).toBe(true);
      // Said once: the crash-loop error leaves out its cause's hint (H424).
      expect(error.message.split('Hint:')).toHaveLength(2);
      expect(error.message).toBe(error.message.trimEnd());
    }
    // Without a hint, nothing is added: no label, no trailing space.
    const bare = new WorkerStartupError(1, 'exited', 'Worker 1 exited.');
    expect(bare.message).toBe('Worker 1 exited.');
    expect(new ServiceStartError('api').message).toMatch(/start it again\.$/);
  });
});
