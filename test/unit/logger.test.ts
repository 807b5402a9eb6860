import { describe, expect, it } from '@jest/globals';
import { hostname } from 'node:os';
import { createJsonLogger, createLineLogger } from '../../src/index.js';

function capture() {
  let text = '';
  return { stream: { write: (chunk: string) => ((text += chunk), true) } as unknown as NodeJS.WritableStream, text: () => text };
}

describe('the loggers clusterkit ships', () => {
  it('JSON lines in pino format: pino level numbers, time, pid, hostname, name, fields, msg; errors under err', () => {
    const out = capture();
    const logger = createJsonLogger({ name: 'api', stream: out.stream, level: 'debug' });
    logger.debug({ workerId: 1 }, 'forked');
    logger.info({ workerId: 1, workerPid: 42 }, 'ready');
    logger.warn({}, 'slow');
    const error = Object.assign(new Error('boom'), { code: 'ERR_X' });
    logger.error({ err: error }, 'failed');
    const lines = out.text().trim().split('\n').map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines.map((line) => line.level)).toEqual([20, 30, 40, 50]);
    expect(lines[1]).toEqual({ level: 30, time: expect.any(Number), pid: process.pid, hostname: hostname(), name: 'api', workerId: 1, workerPid: 42, msg: 'ready' });
    expect(lines[3]!.err).toEqual({ type: 'Error', message: 'boom', code: 'ERR_X', stack: error.stack });
  });

  it('honours the level threshold, silent included', () => {
    const out = capture();
    const logger = createLineLogger({ name: 'api', stream: out.stream, level: 'warn' });
    logger.info({}, 'hidden');
    logger.warn({ workerId: 2 }, 'shown');
    logger.error({ err: new Error('x') }, 'bad');
    expect(out.text()).toBe('[api] WARN shown workerId=2\n[api] ERROR bad err=Error\n');
    const silent = capture();
    createJsonLogger({ stream: silent.stream, level: 'silent' }).error({}, 'nothing');
    expect(silent.text()).toBe('');
  });
});
