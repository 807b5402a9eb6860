import { describe, expect, it } from '@jest/globals';
import { describeValue, WorkerModuleError } from '../../src/errors.js';
import { createJsonLogger, createLineLogger } from '../../src/logger.js';
import { describeError, describeThrown, isError, toReadableError } from '../../src/readable-error.js';
import { errorLocation } from '../../src/runner/error-location.js';
import { loadModule } from '../../src/runner/module-loader.js';
import { toError } from '../../src/to-error.js';
import { kUnreadableKinds, makeUnreadable } from '../fixtures/unreadable-values.js';

describe('reading thrown values', () => {
  it('describes anything without throwing', () => {
    for (const kind of kUnreadableKinds) {
      const value = makeUnreadable(kind);
      expect(typeof describeThrown(value)).toBe('string');
      expect(typeof describeError(value)).toBe('string');
      expect(typeof describeValue(value)).toBe('string');
      expect(typeof isError(value)).toBe('boolean');
    }
    expect(describeThrown(10n)).toBe('10');
    // An empty string, said as such (retest t53: `rejected: .`).
    expect(describeThrown('')).toBe('an empty string ("")');
    expect(describeThrown(() => 1)).toBe('function (anonymous)');
    expect(describeThrown('x'.repeat(5_000))).toHaveLength(2_000);
    expect(describeValue(makeUnreadable('trappingProxy'))).toBe('an unreadable value');
    expect(describeValue(Object.create(null))).toBe('an object');
  });

  it('keeps a readable error, and replaces an unreadable one with a readable error whose cause it is', () => {
    const plain = new TypeError('fine');
    expect(toReadableError(plain)).toBe(plain);
    for (const kind of kUnreadableKinds) {
      const value = makeUnreadable(kind);
      const error = toReadableError(value, 'The handler threw');
      expect(error).toBeInstanceOf(Error);
      expect(typeof error.message).toBe('string');
      expect(typeof error.name).toBe('string');
      if (error !== value) {
        expect(error.message).toMatch(/^The handler threw: /);
        expect(error.cause).toBe(value);
      }
    }
    expect(toReadableError(makeUnreadable('messageGetter')).message).toBe('A value was thrown: Error: (its message could not be read)');
    expect(toReadableError(makeUnreadable('codeGetter')).message).toBe('A value was thrown: Error: bad code');
    // [H111] Its class's name, not Error's, and no wrapper's words around it.
    expect(toReadableError(makeUnreadable('messageGetterClass')).message).toBe('A value was thrown: DbError: (its message could not be read)');
    expect(describeError(makeUnreadable('messageGetterClass'))).toBe('DbError: (its message could not be read)');
  });

  it('lets error messages and loggers render any thrown value', () => {
    for (const kind of kUnreadableKinds) {
      const cause = makeUnreadable(kind);
      expect(new WorkerModuleError('/srv/api.js', 'import-failed', { cause }).message).toMatch(/^The worker module \/srv\/api\.js threw on import: /);
      const lines: string[] = [];
      const stream = { write: (line: string) => lines.push(line) } as unknown as NodeJS.WritableStream;
      createLineLogger({ stream }).error({ error: cause, detail: cause }, 'failed');
      createJsonLogger({ stream }).error({ error: cause }, 'failed');
      expect(lines).toHaveLength(2);
    }
  });

  it('lets the shared toError() and the worker module loader take any thrown value', async () => {
    for (const kind of kUnreadableKinds) {
      const value = makeUnreadable(kind);
      const error = toError(value, 'A listener of "x" threw');
      expect(typeof error.message).toBe('string');
      expect(typeof errorLocation(value, '/srv/api.js')).not.toBe('object');
      const loading = loadModule({ path: '/srv/api.js', noun: 'worker module' }, () => {
        throw value;
      });
      await expect(loading).rejects.toMatchObject({ code: 'ERR_WORKER_MODULE', message: expect.stringMatching(/threw on import: /) });
    }
  });
});

describe('[H346] a thrown object that JSON cannot write', () => {
  it('[H346] keeps its message', async () => {
    const { describeThrown } = await import('../../src/readable-error.js');
    const thrown: Record<string, unknown> = { message: 'cyc' };
    thrown.self = thrown;
    expect(describeThrown(thrown)).toBe('an object with the message "cyc"');
    expect(describeThrown({ n: 1n })).toBe('[object Object]');
  });
});
