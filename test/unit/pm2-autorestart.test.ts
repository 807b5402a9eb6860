/**
 * [H331] Which PM2 keys keep a multi-app launcher from starting an app again: `autorestart:
 * false` (PM2 takes the string too) and `max_restarts: 0`, PM2's "never restart". Any other
 * `max_restarts` bounds the restarts instead.
 */
import { describe, expect, it } from '@jest/globals';
import { translatePm2App } from '../../src/cli/config/pm2-app.js';

const take = <T>(check: () => T): T | undefined => check();
const translate = (raw: Record<string, unknown>) => translatePm2App({ name: 'web', script: 'server.js', ...raw }, 'apps[0]', 'app web', take);

describe('[H331] the app is not started again', () => {
  it('with autorestart: false or "false", and with max_restarts: 0', () => {
    expect(translate({ autorestart: false }).noAutorestart).toBe(true);
    expect(translate({ autorestart: 'false' }).noAutorestart).toBe(true);
    expect(translate({ max_restarts: 0 }).noAutorestart).toBe(true);
  });

  it('is started again with autorestart: true, max_restarts: 5, or neither', () => {
    expect(translate({ autorestart: true }).noAutorestart).toBeUndefined();
    expect(translate({ max_restarts: 5 }).noAutorestart).toBeUndefined();
    expect(translate({}).noAutorestart).toBeUndefined();
  });
});
