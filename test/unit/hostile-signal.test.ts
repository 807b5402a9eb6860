/**
 * Signals a caller tampered with (hostile t68 F1): one whose own `addEventListener` threw made the
 * send reject with that raw error, no class, no code, and the request was sent and ran anyway; one
 * whose `aborted` getter threw rejected with it raw; `Object.create(AbortSignal.prototype)` passed
 * the check and made Node throw `ERR_INVALID_THIS` from inside the send.
 */
import { describe, expect, it } from '@jest/globals';
import { InvalidOptionError } from '../../src/errors.js';
import { normalizeSendOptions } from '../../src/messaging/send-options.js';
import { endpointPair } from '../helpers/endpoint-pair.js';

describe('a signal a caller tampered with', () => {
  it('[H675] one whose own addEventListener, aborted or reason throws is read through Node\'s own accessors: the request runs once, and an abort still rejects', async () => {
    const ran: unknown[] = [];
    const { client } = endpointPair((_type, payload) => {
      ran.push(payload);
      return payload === 'hang' ? new Promise(() => {}) : payload;
    });
    const controller = new AbortController();
    const boom = () => {
      throw new Error('tampered');
    };
    Object.defineProperty(controller.signal, 'addEventListener', { value: boom });
    Object.defineProperty(controller.signal, 'aborted', { get: boom });
    Object.defineProperty(controller.signal, 'reason', { get: boom });
    const { signal } = normalizeSendOptions({ signal: controller.signal });
    await expect(client.request('t', 'once', 60_000, signal)).resolves.toBe('once');
    const hanging = client.request('t', 'hang', 60_000, signal);
    await expect(client.request('t', 'after', 60_000)).resolves.toBe('after');
    controller.abort(new Error('the caller gave up'));
    await expect(hanging).rejects.toThrow('the caller gave up');
    expect(ran).toEqual(['once', 'hang', 'after']);
  });

  it('[H675] an object that only looks like an AbortSignal is refused at the call, with what Node said as its cause', () => {
    const fake = Object.create(AbortSignal.prototype) as AbortSignal;
    let error: unknown;
    try {
      normalizeSendOptions({ signal: fake });
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(InvalidOptionError);
    expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'signal' });
    expect((error as Error).cause).toMatchObject({ code: 'ERR_INVALID_THIS' });
    expect(() => normalizeSendOptions({ signal: { aborted: false } as unknown as AbortSignal })).toThrow(InvalidOptionError);
    // Retest t68b: a Proxy whose getPrototypeOf trap throws rejected with the raw error.
    const trapped = new Proxy(new AbortController().signal, {
      getPrototypeOf() {
        throw new Error('trap proto');
      },
    });
    expect(() => normalizeSendOptions({ signal: trapped })).toThrow(InvalidOptionError);
  });
});
