/**
 * Hostile tester t36 (LOW-1 to LOW-3): worker names that change on the way to the worker or look
 * like another name (H354), a `maxMessageBytes` under what clusterkit's own messages need (H355),
 * and argument errors that read as option errors or as missing workers (H356); retest t36 N4:
 * names that look blank or like another name (H361).
 */
import { describe, expect, it } from '@jest/globals';
import { ClusterPrimary, ClusterWorker, InvalidArgumentError, InvalidOptionError, NoWorkerAvailableError, NotSerializableError } from '../../src/index.js';
import { testOptions, testPrimary } from '../helpers/primary.js';

/** The error `call` throws or rejects with. */
async function failure<T extends Error>(call: () => unknown, type: new (...args: never[]) => T): Promise<T> {
  let error: unknown;
  try {
    await call();
  } catch (thrown) {
    error = thrown;
  }
  expect(error).toBeInstanceOf(type);
  return error as T;
}

describe('names, message limits and arguments', () => {
  // Before: `fork({ name: 'svc\ud800' })` was accepted, and the worker read its name from its
  // environment (UTF-8) as `svc\ufffd`: sendTo() failed under either spelling, even from the
  // worker itself. Invisible characters passed: `b` and `b\u200b` looked the same in status.
  it('[H354][H545] refuses names and roles with a lone surrogate or an invisible character, or "-", saying which and where', async () => {
    const primary = testPrimary({ workerCount: 0 });
    await primary.start();
    const refused: Array<[string, string]> = [
      ['svc\ud800', "it has a lone surrogate U+D800 at index 3, not well-formed UTF-16, which the worker's UTF-8 environment would carry as U+FFFD"],
      ['b\u200b', 'it has an invisible character U+200B at index 1'],
      ['\ufeffa', 'it has an invisible character U+FEFF at index 0'],
      ['a\u00ad', 'it has an invisible character U+00AD at index 1'],
      ['a\u{E0041}', 'it has an invisible character U+E0041 at index 1'],
      ['x\u3164', 'it has an invisible character U+3164 at index 1'],
      ['\u115fx', 'it has an invisible character U+115F at index 0'],
      ['ok\ufe0f', 'it has an invisible character U+FE0F at index 2'],
      ['a\u2066b', 'it has a bidirectional formatting character U+2066 at index 1'],
      ['a\u2028b', 'it has a line separator U+2028 at index 1'],
      ['a\u0085b', 'it has a control character U+0085 at index 1'],
    ];
    for (const [name, said] of refused) {
      const error = await failure(() => primary.fork({ name }), InvalidOptionError);
      expect(error.option).toBe('name');
      expect(error.message).toContain(`and without control, invisible (Unicode format or default-ignorable) or bidirectional formatting characters, line separators or lone surrogates (${said}).`);
    }
    const role = await failure(() => primary.fork({ roles: ['io', 'r\udc00'] }), InvalidOptionError);
    expect(role.option).toBe('roles[1]');
    expect(role.message).toContain('it has a lone surrogate U+DC00 at index 1');
    expect((await failure(() => primary.fork({ roles: ['w\u200deb'] }), InvalidOptionError)).message).toContain('U+200D at index 1');
    expect((await failure(() => primary.fork({ roles: ['a,b'] }), InvalidOptionError)).message).toContain('or commas (it has a comma at index 1, and roles travel comma-joined in CLUSTERKIT_ROLES).');
    expect((await failure(() => primary.listenSticky({ port: 0, role: 'web\u200b' }), InvalidOptionError)).option).toBe('role');
    // [H545] "-" is what status shows for no name or no role (hostile tester t57: a worker named "-" looked unnamed).
    expect((await failure(() => primary.fork({ name: '-' }), InvalidOptionError)).message).toContain('(it is "-", which clusterkit status shows for a worker with no name).');
    expect((await failure(() => primary.fork({ roles: ['-'] }), InvalidOptionError)).message).toContain('it is "-", which clusterkit status shows for a worker with no role');
    expect(() => primary.workerByName('-')).toThrow(InvalidArgumentError);
    expect(primary.workers).toEqual([]);
    // Letters of any language and an emoji (a surrogate pair) reach the worker as given, and
    // the worker reaches itself by the name it reads.
    const name = 'café-日本-😀';
    const [worker] = await primary.fork({ name, roles: ['röle'] });
    await expect(primary.send(worker!, 'whoami')).resolves.toMatchObject({ name, roles: ['röle'] });
    expect(primary.workerByName(name)).toBe(worker);
    await expect(primary.send(worker!, 'relay', { target: name, type: 'whoami' })).resolves.toMatchObject({ id: worker!.id, name });
  });

  // Before: workerByName('b\u200b') and roundRobin({ role: 5 }) answered as for a missing worker
  // (undefined, NoWorkerAvailableError), as did a worker's sendTo('') and sendTo(-1), while
  // sendTo(NaN) was an InvalidArgumentError.
  it('[H354][H356] a name, id or role no worker can have is an argument error, on both sides', async () => {
    const primary = testPrimary({ workerCount: 0 });
    await primary.start();
    const [worker] = await primary.fork({ name: 'b', roles: ['io'] });
    expect(() => primary.workerByName('b\u200b')).toThrow(
      new InvalidArgumentError(
        "workerByName()'s name can be no worker's name: it has an invisible character U+200B at index 1; a worker name is a string of 1 to 128 characters without a space at either end or any other whitespace or blank-looking character (U+00A0, U+3000, U+2800...), in Unicode NFC (name.normalize('NFC')), not starting with a combining mark (U+0301...), and without control, invisible (Unicode format or default-ignorable) or bidirectional formatting characters, line separators or lone surrogates. Received \"b\u200b\".",
      ),
    );
    expect(() => primary.workerByName('')).toThrow(InvalidArgumentError);
    expect(() => primary.workerByName(5 as unknown as string)).toThrow("workerByName()'s name must be a worker name, a string. Received 5.");
    expect(primary.workerByName('c')).toBeUndefined();
    expect(() => primary.roundRobin({ role: 5 as unknown as string })).toThrow(new InvalidArgumentError('The "role" must be a worker role, a string. Received 5.'));
    expect(() => primary.roundRobin({ role: 'a,b' })).toThrow(InvalidArgumentError);
    expect(() => primary.roundRobin({ role: 'web' })).toThrow(NoWorkerAvailableError);
    expect(primary.roundRobin({ role: 'io' })).toBe(worker);
    const relay = (target: string | number) => primary.send(worker!, 'relay', { target, type: 'whoami' });
    const refused: Array<[string | number, string]> = [
      ['', "sendTo()'s target can be no worker's name: it is empty; a worker name is"],
      ['b\u200b', "sendTo()'s target can be no worker's name: it has an invisible character U+200B at index 1"],
      [-1, "sendTo()'s target can be no worker's id: worker ids are positive integers (worker.id, from 1). Received -1."],
      [0, 'worker ids are positive integers (worker.id, from 1). Received 0.'],
    ];
    for (const [target, said] of refused) {
      await expect(relay(target)).rejects.toMatchObject({ remoteName: 'InvalidArgumentError', remoteCode: 'ERR_INVALID_ARGUMENT', remoteMessage: expect.stringContaining(said) });
    }
    await expect(relay('c')).rejects.toMatchObject({ remoteName: 'NoWorkerAvailableError' });
    await expect(relay(worker!.id + 1000)).rejects.toMatchObject({ remoteName: 'NoWorkerAvailableError' });
    await expect(relay('b')).resolves.toMatchObject({ id: worker!.id, name: 'b' });
  });

  // Before (retest t36 N4): ' ', '\u00a0', '\u2800', '\u3000', 'a ', ' a' were names, the ' '
  // worker's name column in `clusterkit status` was blank (not `-`), and 'b' and 'b\u2800',
  // 'cafe\u0301' and 'caf\u00e9' were two workers that looked the same.
  it('[H361] refuses blank names, spaces at either end, other whitespace, blank-looking characters and names not in NFC, everywhere a name is checked', async () => {
    const primary = testPrimary({ workerCount: 0 });
    await primary.start();
    const rule = "a string of 1 to 128 characters without a space at either end or any other whitespace or blank-looking character (U+00A0, U+3000, U+2800...), in Unicode NFC (name.normalize('NFC')), not starting with a combining mark (U+0301...), and without control";
    const refused: Array<[string, string]> = [
      [' ', 'it is blank: it has only whitespace or blank-looking characters, the first U+0020 (space) at index 0, so it would show as an empty name in clusterkit status'],
      ['\u00a0', 'it is blank: it has only whitespace or blank-looking characters, the first U+00A0 (no-break space) at index 0'],
      ['\u2800', 'it is blank: it has only whitespace or blank-looking characters, the first U+2800 (braille pattern blank) at index 0'],
      ['\u3000', 'it is blank: it has only whitespace or blank-looking characters, the first U+3000 (ideographic space) at index 0'],
      ['\u{1D159}', 'it is blank: it has only whitespace or blank-looking characters, the first U+1D159 (musical symbol null notehead) at index 0'],
      ['a ', 'it ends with a space (U+0020 at index 1): pass name.trim()'],
      [' a', 'it starts with a space (U+0020 at index 0): pass name.trim()'],
      ['b\u2800', 'it has a blank-looking character other than a space, U+2800 (braille pattern blank), at index 1: use a space (U+0020), "-" or "_" instead'],
      ['x\u{16FE4}', 'it has a blank-looking character other than a space, U+16FE4 (Khitan small script filler), at index 1'],
      ['a\u00a0b', 'it has a whitespace character other than a space, U+00A0 (no-break space), at index 1: use a space (U+0020), "-" or "_" instead'],
      ['a\u3000b', 'it has a whitespace character other than a space, U+3000 (ideographic space), at index 1'],
      ['a\u2003', 'it has a whitespace character other than a space, U+2003, at index 1'],
      ['a\tb', 'it has a control character U+0009 at index 1'],
      // The Hangul fillers were refused as default-ignorable (H354): U+1160 and U+FFA0 too.
      ['\u1160', 'it has an invisible character U+1160 at index 0'],
      ['\uffa0', 'it has an invisible character U+FFA0 at index 0'],
      ['x\u115f', 'it has an invisible character U+115F at index 1'],
      ['cafe\u0301', "it is not in Unicode NFC: U+0065 U+0301 at index 3 are U+00E9 in NFC, which looks the same: pass name.normalize('NFC')"],
      ['\u212b', 'it is not in Unicode NFC: U+212B at index 0 is U+00C5 in NFC'],
      ['😀\u1100\u1161', 'it is not in Unicode NFC: U+1100 U+1161 at index 2 are U+AC00 in NFC'],
    ];
    for (const [name, said] of refused) {
      const error = await failure(() => primary.fork({ name }), InvalidOptionError);
      expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'name', received: name });
      expect(error.message).toContain(`The "name" option must be ${rule}`);
      expect(error.message).toContain(`lone surrogates (${said}`);
    }
    // Roles, listenSticky's and listenHealth's role.
    const role = await failure(() => primary.fork({ roles: ['io', 'ro\u0308le'] }), InvalidOptionError);
    expect(role.option).toBe('roles[1]');
    expect(role.message).toContain("in Unicode NFC (role.normalize('NFC'))");
    expect(role.message).toContain("(it is not in Unicode NFC: U+006F U+0308 at index 1 are U+00F6 in NFC, which looks the same: pass role.normalize('NFC')).");
    expect((await failure(() => primary.fork({ roles: [' '] }), InvalidOptionError)).message).toContain('it is blank');
    expect((await failure(() => primary.fork({ roles: ['web '] }), InvalidOptionError)).message).toContain('(it ends with a space (U+0020 at index 3): pass role.trim()).');
    const sticky = await failure(() => primary.listenSticky({ port: 0, host: '127.0.0.1', role: 'web\u2800' }), InvalidOptionError);
    expect(sticky).toMatchObject({ option: 'role', message: expect.stringContaining('U+2800 (braille pattern blank), at index 3') });
    const health = await failure(() => primary.listenHealth({ port: 0, host: '127.0.0.1', role: '\u3000' }), InvalidOptionError);
    expect(health).toMatchObject({ option: 'role', message: expect.stringContaining('it is blank: it has only whitespace or blank-looking characters, the first U+3000 (ideographic space) at index 0') });
    expect(primary.workers).toEqual([]);

    // What stays a name: a space between other characters, and the NFC spelling.
    const [spaced] = await primary.fork({ name: 'Billing API', roles: ['a b'] });
    const [cafe] = await primary.fork({ name: 'caf\u00e9', roles: ['r\u00f6le'] });
    const [b] = await primary.fork({ name: 'b' });
    await expect(primary.send(cafe!, 'whoami')).resolves.toMatchObject({ name: 'caf\u00e9', roles: ['r\u00f6le'] });
    expect(primary.workerByName('Billing API')).toBe(spaced);
    expect(primary.roundRobin({ role: 'r\u00f6le' })).toBe(cafe);
    expect(primary.roundRobin({ role: 'a b' })).toBe(spaced);

    // Lookups: an argument error, not a worker missing, the second time too (a refusal is not remembered).
    for (let round = 0; round < 2; round++) {
      expect(() => primary.workerByName(' ')).toThrow(/^workerByName\(\)'s name can be no worker's name: it is blank: /);
      expect(() => primary.workerByName('cafe\u0301')).toThrow(
        new InvalidArgumentError(
          `workerByName()'s name can be no worker's name: it is not in Unicode NFC: U+0065 U+0301 at index 3 are U+00E9 in NFC, which looks the same: pass name.normalize('NFC'); a worker name is ${rule}, invisible (Unicode format or default-ignorable) or bidirectional formatting characters, line separators or lone surrogates. Received "cafe\u0301".`,
        ),
      );
      expect(() => primary.roundRobin({ role: 'ro\u0308le' })).toThrow(/^The "role" can be no worker's role: it is not in Unicode NFC: .*pass role\.normalize\('NFC'\)/);
      expect(() => primary.roundRobin({ role: 'a\u00a0b' })).toThrow(InvalidArgumentError);
    }
    const relay = (target: string) => primary.send(b!, 'relay', { target, type: 'whoami' });
    const targets: Array<[string, string]> = [
      ['b\u2800', "sendTo()'s target can be no worker's name: it has a blank-looking character other than a space, U+2800 (braille pattern blank), at index 1"],
      ['b ', "sendTo()'s target can be no worker's name: it ends with a space (U+0020 at index 1): pass name.trim()"],
      [' ', "sendTo()'s target can be no worker's name: it is blank"],
      ['cafe\u0301', "pass name.normalize('NFC')"],
    ];
    for (const [target, said] of targets) {
      await expect(relay(target)).rejects.toMatchObject({ remoteName: 'InvalidArgumentError', remoteCode: 'ERR_INVALID_ARGUMENT', remoteMessage: expect.stringContaining(said) });
    }
    await expect(relay('caf\u00e9')).resolves.toMatchObject({ id: cafe!.id, name: 'caf\u00e9' });
    await expect(relay('b')).resolves.toMatchObject({ id: b!.id, name: 'b' });

    // Cluster names (serviceName) refuse the same blanks and lookalikes, saying which.
    const clusterNames: Array<[string, string]> = [
      ['\u2800', 'it has a blank-looking character (U+2800), which would look like a space or nothing'],
      ['api\u00a0v2', 'it has a whitespace character other than a space (U+00A0), which would look like a space or nothing'],
      ['api\u3164', 'it has an invisible character (U+3164)'],
      ['api ', 'it starts or ends with a space'],
    ];
    for (const [serviceName, said] of clusterNames) {
      const error = await failure(() => new ClusterPrimary(testOptions(undefined, { serviceName })), InvalidOptionError);
      expect(error).toMatchObject({ option: 'serviceName', message: expect.stringContaining(`must be a cluster name (${said}; a cluster name is 1 to 64 characters`) });
    }
  });

  // Before (retest t37 N3): fork({ name: '\u0301', roles: ['\u0301'] }) and fork({ name: '\u0301a' })
  // were accepted (each is NFC): in clusterkit status the first's name and roles cells were
  // blank, the second showed as "a" with its accent on the column gap; workerByName('\u0301')
  // and roundRobin({ role: '\u0301' }) answered; serviceName '\u0301' named a cluster.
  it('[H361][H372][H501] refuses names and roles made of combining marks or starting with one, or ending with a space that carries marks, everywhere a name is checked, saying which mark and what to do', async () => {
    const primary = testPrimary({ workerCount: 0 });
    await primary.start();
    const marksOnly = 'it is made of combining marks only, the first U+0301 at index 0, so it would show as an empty name in clusterkit status: start it with a letter, digit or symbol';
    const leading = "it starts with a combining mark U+0301 at index 0, which joins the character shown before it (in clusterkit status, the column's padding): start it with a letter, digit or symbol";
    const refused: Array<[string, string]> = [
      ['\u0301', marksOnly],
      ['\u0301\u0323', 'it is made of combining marks only, the first U+0301 at index 0'],
      ['\u0301a', leading],
      ['\u20ddweb', 'it starts with a combining mark U+20DD at index 0'],
    ];
    for (const [name, said] of refused) {
      const error = await failure(() => primary.fork({ name }), InvalidOptionError);
      expect(error).toMatchObject({ code: 'ERR_INVALID_OPTION', option: 'name', received: name });
      expect(error.message).toContain(`not starting with a combining mark (U+0301...), and without control`);
      expect(error.message).toContain(`lone surrogates (${said}`);
    }
    const role = await failure(() => primary.fork({ roles: ['io', '\u0301'] }), InvalidOptionError);
    expect(role).toMatchObject({ option: 'roles[1]', message: expect.stringContaining('so it would show as an empty role in clusterkit status') });
    expect((await failure(() => primary.listenSticky({ port: 0, host: '127.0.0.1', role: '\u0301io' }), InvalidOptionError)).message).toContain('it starts with a combining mark U+0301 at index 0');
    expect((await failure(() => primary.listenHealth({ port: 0, host: '127.0.0.1', role: '\u0301' }), InvalidOptionError)).option).toBe('role');
    expect(primary.workers).toEqual([]);
    // A space at the end that carries only marks is a space at the end (H501; hostile tester t53: `x \u0301` was a name).
    const spaceMarked = await failure(() => primary.fork({ name: 'x \u0301' }), InvalidOptionError);
    expect(spaceMarked.message).toContain('it ends with a space carrying only combining marks (U+0020 at index 1, then U+0301): it shows as the name before it with a stray mark; end it with a letter, digit or symbol');
    expect((await failure(() => primary.fork({ roles: ['io \u0301\u0323'] }), InvalidOptionError)).message).toContain('it ends with a space carrying only combining marks (U+0020 at index 2, then U+0301)');
    // A mark after another character is part of it, as before.
    const [marked] = await primary.fork({ name: 'x\u20dd', roles: ['r-\u0301'] });
    await expect(primary.send(marked!, 'whoami')).resolves.toMatchObject({ name: 'x\u20dd', roles: ['r-\u0301'] });
    // Lookups: an argument error every time, not a missing worker.
    for (let round = 0; round < 2; round++) {
      expect(() => primary.workerByName('\u0301')).toThrow(new RegExp(`^workerByName\\(\\)'s name can be no worker's name: ${marksOnly.replace(/[()+.]/g, '\\$&')}; a worker name is `));
      expect(() => primary.workerByName('\u0301a')).toThrow(InvalidArgumentError);
      expect(() => primary.roundRobin({ role: '\u0301' })).toThrow(/^The "role" can be no worker's role: it is made of combining marks only/);
    }
    expect(primary.workerByName('x\u20dd')).toBe(marked);
    expect(primary.roundRobin({ role: 'r-\u0301' })).toBe(marked);
    await expect(primary.send(marked!, 'relay', { target: '\u0301a', type: 'whoami' })).rejects.toMatchObject({
      remoteName: 'InvalidArgumentError',
      remoteCode: 'ERR_INVALID_ARGUMENT',
      remoteMessage: expect.stringContaining(`sendTo()'s target can be no worker's name: ${leading}`),
    });
    // Cluster names (serviceName) too.
    for (const [serviceName, said] of [
      ['\u0301', 'it starts with a combining mark (U+0301), which would join what is shown before it and, alone, show as nothing'],
      ['\u0301api', 'it starts with a combining mark (U+0301), which would join what is shown before it'],
    ]) {
      const error = await failure(() => new ClusterPrimary(testOptions(undefined, { serviceName })), InvalidOptionError);
      expect(error).toMatchObject({ option: 'serviceName', message: expect.stringContaining(`must be a cluster name (${said}; a cluster name is 1 to 64 characters`) });
    }
  });

  // Before: `maxMessageBytes: 1` was accepted; a worker's own `$ready` (75 B) was then over the
  // limit, every worker crash-looped, and the CrashLoopError pointed at the user's code.
  it('[H355][H715] refuses a maxMessageBytes under 8 KiB on both sides, naming the minimum; at 8 KiB workers start, answer, store and relay', async () => {
    // [H715] And one over 256 MiB (hostile t79: 1e12 was taken, and a worker's huge message ran the primary out of memory before it).
    for (const maxMessageBytes of [1, 75, 8191, 256 * 1024 * 1024 + 1, 1e12]) {
      const error = await failure(() => new ClusterPrimary(testOptions(undefined, { maxMessageBytes })), InvalidOptionError);
      expect(error.message).toBe(
        `The "maxMessageBytes" option must be an integer of bytes from 8192 (8 KiB: clusterkit's own messages, such as a worker's ready notice and an error reply, need that much) to 268435456 (256 MiB: a message is read whole, as one string, and V8's longest is about 512 MiB). Received ${maxMessageBytes}`,
      );
      expect((await failure(() => new ClusterWorker({ maxMessageBytes }), InvalidOptionError)).option).toBe('maxMessageBytes');
    }
    const primary = testPrimary({ workerCount: 2, maxMessageBytes: 8192 });
    const [first, second] = await primary.start();
    await expect(primary.send(first!, 'echo', 'x'.repeat(4000))).resolves.toHaveLength(4000);
    await expect(primary.send(first!, 'storeOp', { op: 'set', args: ['k', 'v'.repeat(4000)] })).resolves.toBeUndefined();
    expect(primary.store.get('k')).toHaveLength(4000);
    await expect(primary.send(first!, 'relay', { target: second!.id, type: 'whoami' })).resolves.toMatchObject({ id: second!.id });
    // An error reply is cut to fit: it arrives, and the worker lives on.
    // (6 000 characters in the message, as many again in the stack: over the limit together.)
    await expect(primary.send(first!, 'fail', { message: 'm'.repeat(6_000) })).rejects.toMatchObject({ remoteName: 'TypeError', remoteMessage: expect.stringMatching(/^m+/) });
    await expect(primary.send(first!, 'echo', 1)).resolves.toBe(1);
    expect(first!.state).toBe('ready');
  });

  // Before: `The "count" option must be a positive integer`, though scale takes an argument; and
  // scale(0) was refused while workerCount: 0 is allowed.
  it('[H356] scale() names its count as an argument, and scale(0) stops every worker, as workerCount: 0 starts none', async () => {
    const primary = testPrimary({ workerCount: 2 });
    await primary.start();
    await primary.fork({ name: 'cache' });
    for (const count of [-1, 1.5, '3', Number.NaN]) {
      await expect(primary.scale(count as number)).rejects.toMatchObject({
        name: 'InvalidArgumentError',
        code: 'ERR_INVALID_ARGUMENT',
        message: expect.stringMatching(/^scale\(count\)'s count must be a non-negative integer at most Number\.MAX_SAFE_INTEGER \(9007199254740991\): the number of workers to run, every slot counted \(0 stops them all\)\. Received /),
      });
    }
    expect(primary.workers).toHaveLength(3);
    await expect(primary.scale(0)).resolves.toEqual([]);
    expect(primary.workers).toEqual([]);
    expect(primary.targetWorkers).toBe(0);
    expect(primary.state).toBe('running');
    const back = await primary.scale(1);
    expect(back).toHaveLength(1);
    await expect(primary.send(back[0]!, 'echo', 'again')).resolves.toBe('again');
  });

  // Before: `Cannot send payload: functions cannot be sent between processes` for a store write.
  it('[H356][H606] a value a store write refuses says it is a store write, with its key, in the primary and from a worker', async () => {
    const primary = testPrimary();
    const [worker] = await primary.start();
    const error = await failure(() => primary.store.set('f', () => 1), NotSerializableError);
    expect(error.message).toBe('Cannot store the value of "f": functions cannot be sent between processes');
    expect(error).toMatchObject({ path: 'value', storeKey: 'f' });
    expect(() => primary.store.set('n', { list: [1, Number.NaN] })).toThrow(/^Cannot store the value of "n", at value\.list\[1\]: NaN becomes null/);
    primary.store.set('c', 1);
    expect(() => primary.store.compareAndSet('c', 1, { f: () => 1 })).toThrow('Cannot store the value of "c", at next.f: functions cannot be sent between processes');
    expect(primary.store.get('c')).toBe(1);
    const outcome = await primary.send(worker!, 'tryHostile', { how: 'store', value: { kind: 'padded-array', padLength: 10 } });
    expect(outcome.error).toMatchObject({ name: 'NotSerializableError', message: expect.stringMatching(/^Cannot store the value of "hostile", at value\.pad: JSON serialization writes the elements of an array only/) });
    // [H606] Refused in the worker itself: no cause. Before, two internal renamings of it, one at `payload.value` (newcomer t61).
    expect(outcome.error!.causes).toEqual([]);
    // A message still says it is one.
    expect(() => primary.notify(worker!, 'echo', () => 1)).toThrow('Cannot send payload: functions cannot be sent between processes');
  });

  it('[H500] notify() refuses an argument after its payload, on both sides, where it was ignored', async () => {
    const primary = testPrimary();
    const [worker] = await primary.start();
    const heard: unknown[] = [];
    for (const extra of [{ signal: AbortSignal.abort() }, { timeoutMs: -1 }, { bogus: 1 }, 5]) {
      expect(() => (primary.notify as (...args: unknown[]) => void)(worker!, 'echo', 'x', extra)).toThrow(
        expect.objectContaining({ name: 'InvalidArgumentError', code: 'ERR_INVALID_ARGUMENT', message: expect.stringMatching(/^notify\(\) takes no options after its payload: .* use send\(\) for those/) }),
      );
      // An AbortSignal cannot cross processes (H750: refused, where it arrived as {}): the worker is given {} in its place.
      heard.push(await primary.send(worker!, 'notifyPrimary', { type: 'x', payload: 1, options: typeof extra === 'object' && extra.signal !== undefined ? { signal: {} } : extra }));
    }
    expect(heard).toEqual(Array.from({ length: 4 }, () => ({ name: 'InvalidArgumentError', code: 'ERR_INVALID_ARGUMENT', message: expect.stringMatching(/^notify\(\) takes no options after its payload/) })));
    // undefined is no option: still sent; one further on is refused too (retest t53).
    expect(() => (primary.notify as (...args: unknown[]) => void)(worker!, 'echo', 'x', undefined)).not.toThrow();
    expect(() => (primary.notify as (...args: unknown[]) => void)(worker!, 'echo', 'x', undefined, 5)).toThrow(/^notify\(\) takes no options after its payload: .* Received 5 after the payload\.$/);
  });
});
