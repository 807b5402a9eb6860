/**
 * A misspelt handler (`_onMessage_pign` defined, 'ping' sent): the receiver names the near miss
 * its class does define, on the error path only; the sender's NoHandlerError names it (checked
 * with real workers in test/integration/messaging.test.ts), and believes a peer's only within
 * 2 edits of the type it sent.
 */
import { describe, expect, it } from '@jest/globals';
import { handlerNotFound, isHandlerNotFound, nearMissHandlerType, peerNearMiss, routeUserMessage } from '../../src/messaging/route.js';

class Base {
  _onMessage_status(): string {
    return 'ok';
  }
}

class Service extends Base {
  _onMessage_pign(): string {
    return 'pong';
  }

  _onMessage_Greet(): string {
    return 'hello';
  }
}

describe('a near-miss handler', () => {
  it('is the type of a handler the class or its base defines, within 2 edits', () => {
    const service = new Service();
    expect(nearMissHandlerType(service, 'ping')).toBe('pign');
    expect(nearMissHandlerType(service, 'greet')).toBe('Greet');
    expect(nearMissHandlerType(service, 'stats')).toBe('status');
    expect(nearMissHandlerType(service, 'shutdownNow')).toBeUndefined();
    // Not a handler: a property with the prefix that is no function, or nothing but the prefix.
    expect(nearMissHandlerType(Object.assign(new Service(), { _onMessage_pinj: 1, _onMessage_: () => {} }), 'ping')).toBe('pign');
    expect(nearMissHandlerType(Object.assign(new Service(), { _onMessage_pinj: 1 }), 'pinh')).toBe('pign');
  });

  it('is never looked for through a hostile receiver', () => {
    const { proxy, revoke } = Proxy.revocable(new Service(), {});
    revoke();
    expect(nearMissHandlerType(proxy, 'ping')).toBeUndefined();
    const throwing = new Proxy(new Service(), {
      ownKeys() {
        throw new Error('no keys');
      },
    });
    expect(nearMissHandlerType(throwing, 'ping')).toBeUndefined();
    // A new prototype each time: the walk stops.
    let made = 0;
    const endless: object = new Proxy(
      {},
      {
        getPrototypeOf() {
          made++;
          return new Proxy({}, { getPrototypeOf: () => (made++, endless) });
        },
      },
    );
    expect(nearMissHandlerType(endless, 'ping')).toBeUndefined();
    expect(made).toBeLessThanOrEqual(64);
  });

  it('[H638] goes with a request\'s NoHandlerError as "nearMiss" (an own field, so it crosses IPC); with a notification only when no message listener may have consumed it', () => {
    const service = new Service();
    // Returned, not thrown (H638: a throw per message was most of a flood's cost).
    const request = routeUserMessage(service, undefined, 'ping', null, true, undefined);
    expect(isHandlerNotFound(request)).toBe(true);
    expect(request).toMatchObject({ code: 'ERR_NO_HANDLER', messageType: 'ping', nearMiss: 'pign' });
    expect(Object.keys(request as object)).toContain('nearMiss');
    // No listener: the receiver tells the misspelt notification (hostile t64).
    const notification = routeUserMessage(service, undefined, 'ping', null, false, undefined);
    expect(isHandlerNotFound(notification)).toBe(true);
    expect(notification).toMatchObject({ nearMiss: 'pign' });
    // A listener heard it and may have consumed it: no near miss.
    const heard = routeUserMessage(service, undefined, 'ping', null, false, () => {});
    expect(isHandlerNotFound(heard)).toBe(true);
    expect(heard).not.toHaveProperty('nearMiss');
    expect(handlerNotFound('ping', 'the receiver')).not.toHaveProperty('nearMiss');
  });
});

describe("a peer's near miss", () => {
  it('is believed only as a user message type within 2 edits of the type sent', () => {
    expect(peerNearMiss({ nearMiss: 'pign' }, 'ping')).toBe('pign');
    for (const nearMiss of ['ping', 'something else entirely', '$ping', '', 7, { toString: () => 'pign' }, 'x'.repeat(300), undefined]) {
      expect(peerNearMiss({ nearMiss }, 'ping')).toBeUndefined();
    }
    expect(peerNearMiss(undefined, 'ping')).toBeUndefined();
  });
});
