import { describe, expect, it } from '@jest/globals';
import { describeListenKey } from '../../src/primary/pool/listen-key.js';

describe('describeListenKey', () => {
  it.each([
    ['null:4126:4:undefined:0', 'port 4126'],
    ['127.0.0.1:4126:4:undefined:0', '127.0.0.1:4126'],
    ['::1:4126:6:undefined:0', '[::1]:4126'],
    ['/run/app.sock:undefined:-1:undefined:0', 'pipe /run/app.sock'],
    ['null:undefined:undefined:3:0', 'descriptor 3'],
    ['garbage', '"garbage"'],
  ])('[H197] %s reads as %s', (key, expected) => {
    expect(describeListenKey(key)).toBe(expected);
  });
});
