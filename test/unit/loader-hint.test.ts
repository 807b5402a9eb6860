import { describe, expect, it } from '@jest/globals';
import { typeScriptLoaderHint } from '../../src/primary/pool/loader-hint.js';

describe('the TypeScript loader hint', () => {
  it('is given for a TypeScript script when no Node option can load it', () => {
    for (const script of ['/srv/a.ts', '/srv/a.mts', '/srv/a.cts', '/srv/a.tsx']) {
      expect(typeScriptLoaderHint([script], [], undefined)).toBe(
        `Hint: ${script} is TypeScript, and the workers run without a TypeScript loader: add one to their Node options, such as --import tsx (execArgv: ['--import', 'tsx']; clusterkit run: --node-arg=--import=tsx).`,
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
});
