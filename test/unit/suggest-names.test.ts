/**
 * "Did you mean" for a mistyped name (a cluster's, an app's): only a name near relative to its
 * length (retest t85 #7: any 2-character name is two edits from any other one).
 */
import { describe, expect, it } from '@jest/globals';
import { closestName } from '../../src/cli/suggest.js';
import { ClusterNotRunningError } from '../../src/errors.js';

describe('name suggestions', () => {
  it('[H760] suggests a name only within one edit up to 5 characters, two from 6', () => {
    // Short names: one edit at most.
    expect(closestName('ap', ['db'])).toBeUndefined();
    expect(closestName('ab', ['xy', 'cd'])).toBeUndefined();
    expect(closestName('ap', ['api'])).toBe('api');
    expect(closestName('apu', ['api'])).toBe('api');
    expect(closestName('wrkr', ['web', 'api'])).toBeUndefined();
    expect(closestName('shwn', ['shown'])).toBe('shown');
    // From 6 characters, two.
    expect(closestName('wrkers', ['workers'])).toBe('workers');
    expect(closestName('nc25ap', ['nc25api', 'nc25worker'])).toBe('nc25api');
    expect(closestName('prdction', ['production'])).toBe('production');
    expect(closestName('abcdefgh', ['xycdefgh'])).toBe('xycdefgh');
    expect(closestName('abcdefgh', ['xyzdefgh'])).toBeUndefined();
    // As the CLI says it.
    expect(new ClusterNotRunningError('ap', ['db']).message).not.toContain('Did you mean');
    expect(new ClusterNotRunningError('ap', ['db']).message).toContain('Running: "db".');
    expect(new ClusterNotRunningError('webap', ['webapp']).message).toContain('Did you mean "webapp"?');
  });
});
