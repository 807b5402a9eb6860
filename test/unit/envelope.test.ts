import { describe, expect, it } from '@jest/globals';
import {
  batchEnvelope,
  checkUserType,
  errorReplyEnvelope,
  isClusterKitMessage,
  notifyEnvelope,
  readBatch,
  readSingleEnvelope,
  replyEnvelope,
  requestEnvelope,
} from '../../src/messaging/envelope.js';

describe('envelope', () => {
  it('round-trips every kind through JSON', () => {
    const envelopes = [requestEnvelope(1, 'greet', { name: 'x' }), replyEnvelope(1, 'hi'), errorReplyEnvelope(2, { name: 'Error', message: 'm' }, 'no-handler'), notifyEnvelope('tick', 3)];
    for (const envelope of envelopes) expect(readSingleEnvelope(JSON.parse(JSON.stringify(envelope)))).toEqual(envelope);
    const batch = batchEnvelope(envelopes);
    expect(readBatch(JSON.parse(JSON.stringify(batch)))).toEqual(envelopes);
  });

  it('never puts user data at the top level or in cmd', () => {
    const envelope = requestEnvelope(1, 'NODE_CLUSTER', { cmd: 'NODE_CLUSTER', act: 'exitedAfterDisconnect' });
    expect(Object.keys(envelope).sort()).toEqual(['__ck', 'id', 'k', 'payload', 'type']);
    expect((envelope as unknown as Record<string, unknown>).cmd).toBeUndefined();
  });

  it('rejects malformed envelopes instead of throwing', () => {
    for (const bad of [null, 1, 'ready', {}, { __ck: 2, k: 'req', id: 1, type: 't' }, { __ck: 1, k: 'req', id: 0, type: 't' }, { __ck: 1, k: 'req', id: 1.5, type: 't' },
      { __ck: 1, k: 'req', id: 1, type: '' }, { __ck: 1, k: 'req', id: 1, type: 'x'.repeat(300) }, { __ck: 1, k: 'err', id: 1, error: 'boom' }, { __ck: 1, k: 'zzz' }, { __ck: 1, k: 'res' }]) {
      expect(readSingleEnvelope(bad)).toBeUndefined();
    }
    expect(readBatch({ __ck: 1, k: 'bat', msgs: 'no' })).toBeUndefined();
    expect(isClusterKitMessage('ready')).toBe(false);
    expect(isClusterKitMessage({ cmd: 'NODE_CLUSTER' })).toBe(false);
  });

  it('validates user message types', () => {
    expect(checkUserType('greet')).toBeUndefined();
    expect(checkUserType('__proto__')).toBeUndefined();
    expect(checkUserType('')).toMatch(/non-empty/);
    expect(checkUserType('$ready')).toMatch(/reserved/);
    expect(checkUserType(5)).toMatch(/string/);
  });
});
