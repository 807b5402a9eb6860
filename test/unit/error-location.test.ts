/**
 * Where an error was thrown, read from its stack: a frame, never a path the message quotes
 * (retest t60: `new Error('failed at step: see /etc/x.conf:12')` was said thrown at /etc/x.conf:12).
 */
import { describe, expect, it } from '@jest/globals';
import { errorLocation, stackLocation } from '../../src/runner/error-location.js';

describe('error location', () => {
  it('[H599] is the first frame of the stack, not a path in the message', () => {
    const error = new Error('failed at step: see /etc/x.conf:12');
    error.stack = 'Error: failed at step: see /etc/x.conf:12\n    at Timeout._onTimeout (/srv/app/crash.js:7:33)\n    at listOnTimeout (node:internal/timers:581:17)';
    expect(errorLocation(error)).toBe('/srv/app/crash.js:7:33');
    expect(stackLocation(error.stack)).toBe('/srv/app/crash.js:7:33');
    // A message over several lines, each with a path: the frames still win.
    const multi = new Error('line one /a/b.js:1\nline two /c/d.js:2');
    multi.stack = `Error: ${multi.message}\n    at run (/srv/app/main.js:3:9)`;
    expect(errorLocation(multi)).toBe('/srv/app/main.js:3:9');
    expect(stackLocation(multi.stack)).toBe('/srv/app/main.js:3:9');
  });
});
