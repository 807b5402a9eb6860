/**
 * Issue 11, kind 11: nothing changes silently with `json` serialization. A value JSON would
 * change (a Buffer, a RegExp, NaN, a hole in an array...) is refused at the call with its path,
 * as Map and Set are; a throwing getter or toJSON is a NotSerializableError with its path, not
 * the raw error. What JSON converts faithfully (a Date to its ISO string, a class instance to
 * its fields) is accepted, as docs/messaging.md says. `advanced` carries the refused values as
 * they are.
 */
import { describe, expect, it } from '@jest/globals';
import { ClusterPrimary, NotSerializableError, RemoteError } from '../../src/index.js';
import { testOptions, track } from '../helpers/primary.js';

async function start(serialization: 'json' | 'advanced') {
  const primary = track(new ClusterPrimary(testOptions('json-values-worker.ts', { serialization })));
  const [worker] = await primary.start();
  return { primary, worker: worker!, serialization };
}

/** Payloads JSON would change silently, and the path and reason each must be refused with. */
function changedByJson(): Array<[string, unknown, RegExp]> {
  const sparse = [1, 2, 3];
  delete sparse[1];
  return [
    ['a Buffer', { file: Buffer.from('hi') }, /^Cannot send payload\.file: a Buffer arrives as \{ type: "Buffer", data: \[\.\.\.\] \}/],
    ['a RegExp', { pattern: /a+/g }, /^Cannot send payload\.pattern: a RegExp becomes \{\}/],
    ['NaN', { stats: { ratio: Number.NaN } }, /^Cannot send payload\.stats\.ratio: NaN becomes null/],
    ['Infinity', { limit: Number.POSITIVE_INFINITY }, /^Cannot send payload\.limit: Infinity becomes null/],
    ['-Infinity in an array', [0, Number.NEGATIVE_INFINITY], /^Cannot send payload\[1\]: -Infinity becomes null/],
    ['NaN as the payload', Number.NaN, /^Cannot send payload: NaN becomes null/],
    ['undefined in an array', { list: [1, undefined, 3] }, /^Cannot send payload\.list\[1\]: undefined in an array/],
    ['a sparse array', sparse, /^Cannot send payload\[1\]: undefined in an array \(or an empty slot of a sparse array\)/],
    ['an invalid Date', { when: new Date('not a date') }, /^Cannot send payload\.when: an invalid Date becomes null/],
    ['a typed array', { bytes: new Uint8Array(2) }, /^Cannot send payload\.bytes: typed arrays .* send an array of numbers or a base64 string/],
  ];
}

function throwingAccessors(): Array<[string, unknown, RegExp]> {
  return [
    [
      'a getter that throws',
      {
        user: {
          get secret(): string {
            throw new Error('locked');
          },
        },
      },
      /^Cannot send payload\.user\.secret: .*threw Error: locked/,
    ],
    [
      'a toJSON that throws',
      {
        when: {
          toJSON(): never {
            throw new TypeError('no JSON for you');
          },
        },
      },
      /^Cannot send payload\.when: its toJSON\(\) threw TypeError: no JSON for you/,
    ],
    [
      'a Proxy whose traps throw',
      {
        inner: new Proxy(
          {},
          {
            ownKeys() {
              throw new Error('no keys');
            },
          },
        ),
      },
      /^Cannot send payload\.inner: .*threw Error: no keys/,
    ],
  ];
}

async function refusal(send: () => Promise<unknown>): Promise<NotSerializableError> {
  const error = await send().catch((e: unknown) => e);
  expect(error).toBeInstanceOf(NotSerializableError);
  return error as NotSerializableError;
}

describe('json serialization changes nothing silently', () => {
  it('[H11] refuses every value JSON would change, at the call and in a reply, with its path', async () => {
    const { primary, worker } = await start('json');
    for (const [, payload, message] of changedByJson()) {
      expect((await refusal(() => primary.send(worker, 'echo', payload))).message).toMatch(message);
      expect(() => primary.notify(worker, 'echo', payload)).toThrow(NotSerializableError);
    }
    expect(() => primary.store.set('blob', Buffer.from('x'))).toThrow(NotSerializableError);
    // A handler's reply: the caller gets an error naming the field, not a changed value.
    for (const [kind, message] of [
      ['nan', /^Cannot send the reply to "reply", field reply\.ratio: NaN becomes null/],
      ['buffer', /Buffer arrives as/],
      ['holes', /undefined in an array/],
      ['getter', /threw Error: locked/],
    ] as const) {
      const error = await primary.send(worker, 'reply', { kind }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(RemoteError);
      expect((error as RemoteError).remoteName).toBe('NotSerializableError');
      expect((error as RemoteError).remoteMessage).toMatch(message);
    }
    await expect(primary.send(worker, 'echo', 'still fine')).resolves.toBe('still fine');
  });

  it('[H558] a reply refused by its check, unsendable or too large, has no cause that calls it a payload', async () => {
    const { primary, worker } = await start('json');
    const causes = (error: unknown): string[] => {
      const messages: string[] = [];
      for (let at = (error as Error).cause; at instanceof Error; at = at.cause) messages.push(at.message);
      return messages;
    };
    // Before (lib t58): the cause said "Cannot send payload.ratio" under "Cannot send the reply to ... field reply.ratio".
    const unsendable = await primary.send(worker, 'reply', { kind: 'nan' }).catch((e: unknown) => e);
    expect((unsendable as RemoteError).remoteMessage).toMatch(/^Cannot send the reply to "reply", field reply\.ratio/);
    expect(causes(unsendable).join('\n')).not.toMatch(/payload/);
    // A getter's own throw is still the cause.
    const getter = await primary.send(worker, 'reply', { kind: 'getter' }).catch((e: unknown) => e);
    expect(causes(getter).join('\n')).toContain('locked');
    expect(causes(getter).join('\n')).not.toMatch(/payload/);
  });

  it('[H11] a getter, toJSON or Proxy that throws is a NotSerializableError with the path, in both serializations', async () => {
    for (const { primary, worker, serialization } of await Promise.all([start('json'), start('advanced')])) {
      for (const [what, payload, message] of throwingAccessors()) {
        if (what === 'a toJSON that throws' && serialization === 'advanced') continue; // structured clone ignores toJSON
        const error = await refusal(() => primary.send(worker, 'echo', payload));
        expect(error.message).toMatch(message);
        expect(error.cause).toBeInstanceOf(Error);
      }
      expect(primary.stats()[0]!.pending).toBe(0);
    }
  });

  it('[H11] carries what JSON converts faithfully, as documented; advanced carries the values JSON would change', async () => {
    const [json, advanced] = await Promise.all([start('json'), start('advanced')]);
    class Point {
      constructor(
        readonly x: number,
        readonly y: number,
      ) {}
      get length(): number {
        return Math.hypot(this.x, this.y);
      }
    }
    const hidden = Object.defineProperty({ shown: 1 }, 'hidden', { value: 2, enumerable: false });
    const converted = (await json.primary.send(json.worker, 'echo', {
      when: new Date(0),
      zero: -0,
      point: new Point(3, 4),
      absent: undefined,
      money: { toJSON: () => '12.50 EUR' },
      hidden,
      [Symbol('key')]: 'dropped',
    })) as Record<string, unknown>;
    expect(converted).toEqual({ when: '1970-01-01T00:00:00.000Z', zero: 0, point: { x: 3, y: 4 }, money: '12.50 EUR', hidden: { shown: 1 } });
    expect(Object.is(converted.zero, 0)).toBe(true);
    expect('absent' in converted).toBe(false);

    const sparse = [1, 2, 3];
    delete sparse[1];
    const payload = { file: Buffer.from('hi'), pattern: /a+/g, ratio: Number.NaN, limit: -Infinity, list: [1, undefined, 3], sparse, when: new Date(0) };
    const echoed = (await advanced.primary.send(advanced.worker, 'echo', payload)) as typeof payload;
    expect(Buffer.from(echoed.file).toString()).toBe('hi');
    expect(echoed.pattern).toEqual(/a+/g);
    expect(echoed.ratio).toBeNaN();
    expect(echoed.limit).toBe(-Infinity);
    expect(echoed.list).toEqual([1, undefined, 3]);
    expect(1 in echoed.sparse).toBe(false);
    expect(echoed.when).toEqual(new Date(0));
  });

  it('[H88] an array with a toJSON() of its own or of its class is sent as JSON writes it (what toJSON returns), with the bulk pipe and without; advanced says what it cannot carry', async () => {
    class Tagged extends Array<string> {
      toJSON(): unknown {
        return { tagged: [...this] };
      }
    }
    const payloads = (): unknown[] => [
      Object.assign(['h'.repeat(20_000), 'm'.repeat(1_000)], { toJSON: () => ({ size: 20_000 }) }),
      Object.assign([1, 2], { toJSON: () => ({ text: 'r'.repeat(5_000) }) }),
      { list: Object.assign(['x'.repeat(3_000), 'y'], { toJSON(this: string[]) { return { first: this[0] }; } }) },
      Tagged.from(['t'.repeat(2_000), 'u']),
      { nested: [Tagged.from(['v'])] },
    ];
    const sendAll = async ({ primary, worker }: Awaited<ReturnType<typeof start>>) => {
      for (const payload of payloads()) await expect(primary.send(worker, 'echo', payload)).resolves.toEqual(JSON.parse(JSON.stringify(payload)));
    };
    await sendAll(await start('json'));
    process.env.CLUSTERKIT_BULK = '0';
    try {
      await sendAll(await start('json'));
    } finally {
      delete process.env.CLUSTERKIT_BULK;
    }
    // Structured clone ignores toJSON: an own toJSON is a function it cannot carry, said with its
    // path; a class's is dropped with the class, as for any class instance (its elements arrive).
    const advanced = await start('advanced');
    await expect(advanced.primary.send(advanced.worker, 'echo', { list: Object.assign([1], { toJSON: () => 'one' }) })).rejects.toThrow(
      /^Cannot send payload\.list\.toJSON: functions cannot be sent between processes/,
    );
    await expect(advanced.primary.send(advanced.worker, 'echo', Tagged.from(['w']))).resolves.toEqual(['w']);
  });

  it('[H11] sendTo() with timeoutMs: Infinity works with JSON serialization', async () => {
    const { primary, worker } = await start('json');
    await primary.fork({ name: 'bob' });
    await expect(primary.send(worker, 'relayForever', { target: 'bob', type: 'echo', payload: { hello: 'bob' } })).resolves.toEqual({ hello: 'bob' });
  });

  it('[H11] a worker whose prom-client gauge is NaN is still scraped with JSON serialization', async () => {
    const primary = track(new ClusterPrimary(testOptions('nan-gauge-worker.ts', { serialization: 'json' })));
    await primary.start();
    const text = await primary.metrics();
    expect(text).toMatch(/^app_started_total 1$/m);
    expect(text).toMatch(/^app_ratio /m);
    expect(text).not.toMatch(/clusterkit_worker_scrape_errors_total\{[^}]*\} [1-9]/);
  });
});
