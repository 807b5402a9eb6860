/**
 * A handler's thrown Error whose `stack` getter throws, and its `name` or `message` getter too
 * (hostile t68 F3 reported the getter's own exception as the remote error). Not ours: redefining
 * `stack` makes V8 format the pending stack, which calls `toString()`, so a `name` or `message`
 * getter defined before it throws from `Object.defineProperty` itself, and the handler threw that
 * error. Defined `stack` first, the error thrown is the one told.
 */
import { describe, expect, it } from '@jest/globals';
import { RemoteError } from '../../src/errors.js';
import { endpointPair } from '../helpers/endpoint-pair.js';

function tampered(message: string, throwing: readonly ('name' | 'message' | 'stack')[]): Error {
  const error = new Error(message);
  // `stack` first: see above.
  for (const field of [...throwing].sort((a, b) => Number(b === 'stack') - Number(a === 'stack'))) {
    Object.defineProperty(error, field, {
      get() {
        throw new Error(`${field} getter`);
      },
    });
  }
  return error;
}

describe('a thrown error whose fields throw when read', () => {
  it('is told by what can be read: its message, or that its message could not be read; never a getter\'s exception', async () => {
    const { client } = endpointPair((_type, payload) => {
      throw tampered('real', payload as ('name' | 'message' | 'stack')[]);
    });
    const nameStack = (await client.request('t', ['name', 'stack']).catch((error: unknown) => error)) as RemoteError;
    expect(nameStack).toBeInstanceOf(RemoteError);
    expect(nameStack.remoteMessage).toBe('real');
    expect(nameStack.remoteName).toBe('Error');
    expect(nameStack.remoteStack ?? '').not.toContain('getter');
    const messageStack = (await client.request('t', ['message', 'stack']).catch((error: unknown) => error)) as RemoteError;
    expect(messageStack.remoteMessage).toBe('(its message could not be read)');
    expect(messageStack.remoteStack ?? '').not.toContain('getter');
    const all = (await client.request('t', ['name', 'message', 'stack']).catch((error: unknown) => error)) as RemoteError;
    expect(all.remoteMessage).toBe('(its message could not be read)');
  });
});
