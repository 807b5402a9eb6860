import { describe, expect, it } from '@jest/globals';
import { parseCommand } from '../../src/cli/parse-command.js';
import { parseRunFlags } from '../../src/cli/run-flags.js';
import { UsageError } from '../../src/cli/usage-error.js';

describe('short options with "="', () => {
  it('[H144] takes -w=4 as --workers=4, for every short option that takes a value (before: the value "=4")', () => {
    const flags = parseRunFlags(['server.js', '-w=4', '-n=api'], '/srv');
    expect(flags.layer).toMatchObject({ workers: 4, name: 'api' });
    expect(flags.positionals).toEqual(['server.js']);
    expect(parseRunFlags(['-c=ck.config.json', 'api'], '/srv')).toMatchObject({ configPath: '/srv/ck.config.json', positionals: ['api'] });
    expect(parseCommand('logs', ['api', '-n=5'], { lines: { type: 'string', short: 'n' } }).values).toEqual({ lines: '5' });
    // After "--", the script's arguments stay as typed.
    expect(parseRunFlags(['server.js', '--', '-w=4'], '/srv').layer.scriptArgs).toEqual(['-w=4']);
    // An empty value is named as the long form's.
    expect(() => parseRunFlags(['server.js', '-w='], '/srv')).toThrow(new UsageError('--workers must be a positive integer, "auto" or "max". Received "".', 'run'));
  });
});
