import { describe, expect, it } from '@jest/globals';
import {
  checkUserType,
  frame,
  isClusterKitMessage,
  kErrorReply,
  kNoPayload,
  kNotify,
  kReply,
  kRequest,
  pushRecord,
  readFrame,
} from '../../src/messaging/envelope.js';

describe('wire format', () => {
  it('carries flat records in one frame and survives JSON', () => {
    const records: unknown[] = [];
    pushRecord(records, kRequest, 1, 'greet', { name: 'x' });
    pushRecord(records, kReply, 1, 0, 'hi');
    pushRecord(records, kErrorReply, 2, 1, { name: 'Error', message: 'm' });
    pushRecord(records, kNotify, 0, 'tick', undefined);
    const copy = JSON.parse(JSON.stringify(frame(records))) as unknown;
    expect(readFrame(copy)).toEqual([0, 1, 'greet', { name: 'x' }, 1, 1, 0, 'hi', 2, 2, 1, { name: 'Error', message: 'm' }, kNotify | kNoPayload, 0, 'tick', null]);
  });

  it('never puts user data at the top level or in cmd', () => {
    const message = frame([kRequest, 1, 'NODE_CLUSTER', { cmd: 'NODE_CLUSTER', act: 'exitedAfterDisconnect' }]);
    expect(Object.keys(message).sort()).toEqual(['__ck', 'm']);
    expect((message as unknown as Record<string, unknown>).cmd).toBeUndefined();
  });

  it('rejects malformed frames instead of throwing', () => {
    for (const bad of [null, 1, 'ready', {}, { __ck: 2, m: [0, 1, 't', 1] }, { __ck: 1, m: 'x' }, { __ck: 1, m: [] }, { __ck: 1, m: [0, 1, 't'] }]) {
      expect(readFrame(bad)).toBeUndefined();
    }
    expect(isClusterKitMessage('ready')).toBe(false);
    expect(isClusterKitMessage({ cmd: 'NODE_CLUSTER' })).toBe(false);
    expect(isClusterKitMessage({ __ck: 1, m: [] })).toBe(true);
  });

  it('validates user message types', () => {
    expect(checkUserType('greet')).toBeUndefined();
    expect(checkUserType('__proto__')).toBeUndefined();
    expect(checkUserType('')).toMatch(/non-empty/);
    expect(checkUserType('$ready')).toMatch(/reserved/);
    expect(checkUserType(5)).toMatch(/string/);
  });
});
