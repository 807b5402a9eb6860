import { describe, expect, it } from '@jest/globals';
import { NoHandlerError, ProtocolError } from '../../src/errors.js';
import { kNoReply } from '../../src/messaging/inbound.js';
import { isHandlerNotFound } from '../../src/messaging/route.js';
import { SystemRouter, type ProtocolProblem } from '../../src/messaging/system-router.js';
import { registerStartupNotices } from '../../src/primary/pool/startup-notices.js';
import type { WorkerRecord } from '../../src/primary/pool/worker-record.js';
import { completeMetrics, describeMetricsProblem, isMetricsReply, type MetricJson } from '../../src/messaging/metrics-reply.js';
import { jsonSafeMetrics } from '../../src/worker/metric-values.js';
import {
  boundInitError,
  isInitErrorPayload,
  isNoPayload,
  isPingReport,
  isReadyPayload,
  isShutdownPayload,
  isStoreOperation,
  kMaxErrorTextLength,
  kPrimaryToWorkerTypes,
  kWorkerToPrimaryTypes,
} from '../../src/messaging/system-types.js';

function router() {
  const dropped: Array<[string, string | undefined, ProtocolProblem]> = [];
  const system = new SystemRouter<string>({ receiver: 'the primary', onProtocolError: (peer, type, problem) => dropped.push([peer, type, problem]) });
  const handled: unknown[] = [];
  system.register('$shutdown', { kind: 'request', check: isShutdownPayload, handle: (payload, peer) => (handled.push([peer, payload.timeoutMs]), 'bye') });
  system.register('$watchdog', { kind: 'notification', check: isNoPayload, handle: () => void handled.push('armed') });
  system.register('$ready', { kind: 'notification', check: isReadyPayload, when: (peer) => peer !== 'ready', handle: (_, peer) => void handled.push(`${peer} ready`) });
  return { system, dropped, handled };
}

describe('SystemRouter', () => {
  it('hands a well-formed message of the declared kind to its handler', () => {
    const { system, dropped, handled } = router();
    expect(system.route('w1', '$shutdown', { timeoutMs: 5 }, true)).toBe('bye');
    expect(system.route('w1', '$watchdog', undefined, false)).toBeUndefined();
    expect(handled).toEqual([['w1', 5], 'armed']);
    expect(dropped).toEqual([]);
    expect(system.protocolErrors).toBe(0);
  });

  it('drops and counts a message of the wrong kind or with a malformed payload, without a reply', () => {
    const { system, dropped, handled } = router();
    expect(system.route('w1', '$shutdown', { timeoutMs: 5 }, false)).toBe(kNoReply);
    expect(system.route('w2', '$shutdown', null, true)).toBe(kNoReply);
    expect(system.route('w2', '$shutdown', { timeoutMs: '5' }, true)).toBe(kNoReply);
    expect(system.route('w3', '$watchdog', undefined, true)).toBe(kNoReply);
    expect(system.route('w3', '$watchdog', 42, false)).toBe(kNoReply);
    expect(handled).toEqual([]);
    expect(system.protocolErrors).toBe(5);
    expect(dropped.map(([peer, , problem]) => `${peer} ${problem}`)).toEqual(['w1 wrong-kind', 'w2 bad-payload', 'w2 bad-payload', 'w3 wrong-kind', 'w3 bad-payload']);
  });

  it('[H638] answers a request of an unknown system type with NoHandlerError, one per type, returned, and counts it', () => {
    const { system } = router();
    const miss = system.route('w1', '$future', {}, true);
    expect(miss).toBeInstanceOf(NoHandlerError);
    expect(isHandlerNotFound(miss)).toBe(true);
    // A flood of them (hostile t64) costs no new error each.
    expect(system.route('w2', '$future', {}, true)).toBe(miss);
    expect(system.route('w1', '$future', {}, false)).toBe(kNoReply);
    expect(system.protocolErrors).toBe(3);
  });

  it('drops a system type only this side sends (a worker sending $ping), without a NoHandlerError', () => {
    const dropped: Array<[string, string | undefined, ProtocolProblem]> = [];
    const system = new SystemRouter<string>({ receiver: 'the primary', outboundTypes: kPrimaryToWorkerTypes, onProtocolError: (peer, type, problem) => dropped.push([peer, type, problem]) });
    for (const type of ['$ping', '$shutdown', '$metrics', '$storeChange']) expect(system.route('w1', type, undefined, true)).toBe(kNoReply);
    expect(system.route('w1', '$watchdog', undefined, false)).toBe(kNoReply);
    expect(dropped.map(([, type, problem]) => `${type} ${problem}`)).toEqual(['$ping wrong-direction', '$shutdown wrong-direction', '$metrics wrong-direction', '$storeChange wrong-direction', '$watchdog wrong-direction']);
    expect(new ProtocolError('worker 1', 'wrong-direction', '$ping').message).toMatch(/sent "\$ping", a system message only its receiver sends/);
    // Every system type goes one way.
    for (const type of kWorkerToPrimaryTypes) expect(kPrimaryToWorkerTypes.has(type)).toBe(false);
  });

  it('drops a well-formed message the peer\'s state rules out', () => {
    const { system, dropped, handled } = router();
    expect(system.route('starting', '$ready', { pid: 42 }, false)).toBeUndefined();
    expect(system.route('ready', '$ready', { pid: 42 }, false)).toBe(kNoReply);
    expect(handled).toEqual(['starting ready']);
    expect(dropped).toEqual([['ready', '$ready', 'unexpected']]);
  });

  it('checks the replies to its own requests: a bad one is counted and rejects with ProtocolError', async () => {
    const { system, dropped } = router();
    const endpoint = (reply: unknown) => ({ request: () => Promise.resolve(reply) });
    const report = { rss: 1, heapUsed: 1, heapTotal: 2, loopDelayMean: 0.5, loopDelayP99: 3, cpuPercent: 12 };
    await expect(system.request('w1', endpoint(report), '$ping', undefined, isPingReport)).resolves.toBe(report);
    const error = await system.request('w2', endpoint(null), '$ping', undefined, isPingReport).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ProtocolError);
    expect(error).toMatchObject({ code: 'ERR_PROTOCOL', problem: 'bad-reply', messageType: '$ping', peer: 'w2' });
    expect(dropped).toEqual([['w2', '$ping', 'bad-reply']]);
    expect(system.protocolErrors).toBe(1);
  });

  it('counts what the endpoint drops with the rest', () => {
    const { system, dropped } = router();
    system.reportDropped('w1', 'malformed-frame');
    expect(dropped).toEqual([['w1', undefined, 'malformed-frame']]);
    expect(system.protocolErrors).toBe(1);
  });
});

describe('system payload checks', () => {
  it('store operations: an op, and the fields of the ops this version knows', () => {
    expect(isStoreOperation({ op: 'get', key: 'k' })).toBe(true);
    expect(isStoreOperation({ op: 'set', key: 'k', value: 1, ephemeral: true })).toBe(true);
    expect(isStoreOperation({ op: 'nope' })).toBe(true); // the store itself rejects it with a reply
    for (const bad of [undefined, null, 'get', [], { key: 'k' }, { op: 1 }, { op: 'set' }, { op: 'increment', key: 'k', by: '1' }, { op: 'entries' }, { op: 'set', key: 'k', ephemeral: 1 }]) {
      expect(isStoreOperation(bad)).toBe(false);
    }
  });

  it('heartbeat answers: finite, non-negative figures', () => {
    const report = { rss: 1, heapUsed: 1, heapTotal: 2, loopDelayMean: 0.5, loopDelayP99: 3, cpuPercent: 12 };
    expect(isPingReport(report)).toBe(true);
    expect(isPingReport({ ...report, cpuPercent: undefined })).toBe(true);
    for (const bad of [null, undefined, 42, [], { ...report, rss: '1' }, { ...report, heapUsed: -1 }, { ...report, loopDelayP99: Number.NaN }, { ...report, cpuPercent: Infinity }, { ...report, rss: 'x'.repeat(1e6) }]) {
      expect(isPingReport(bad)).toBe(false);
    }
  });

  it('init errors: bounded texts; a long one is cut to fit, not dropped', () => {
    expect(isInitErrorPayload({ name: 'Error', message: 'boom' })).toBe(true);
    const long = { name: 'Error', message: 'x'.repeat(kMaxErrorTextLength + 1), stack: 'y'.repeat(1e6) };
    expect(isInitErrorPayload(long)).toBe(false);
    expect(isInitErrorPayload(boundInitError(long))).toBe(true);
    expect(boundInitError(long).message.endsWith('...')).toBe(true);
    for (const bad of [null, { name: 'Error' }, { name: 1, message: 'm' }, { name: 'E', message: 'm', code: 5 }, { name: 'E', message: 'm', data: [] }]) expect(isInitErrorPayload(bad)).toBe(false);
  });

  it('metrics replies: what getMetricsAsJSON returns, with Prometheus names', () => {
    const counter = { name: 'app_total', help: 'h', type: 'counter', aggregator: 'sum', values: [{ value: 1, labels: { route: '/' } }] };
    expect(isMetricsReply([counter])).toBe(true);
    expect(isMetricsReply(null)).toBe(true);
    expect(isMetricsReply([{ ...counter, aggregator: undefined, values: [{ value: null }] }])).toBe(true);
    const bad = [
      [{ name: 'x' }, null, 42],
      'text',
      [{ ...counter, name: 'x 1\nforged 1' }],
      [{ ...counter, type: 'untyped' }],
      [{ ...counter, aggregator: 'constructor' }],
      [{ ...counter, values: [{ value: '1', labels: {} }] }],
      [{ ...counter, values: [{ value: 1, labels: { 'bad label': 'x' } }] }],
      [{ ...counter, values: [{ value: 1, labels: { route: {} } }] }],
      [{ ...counter, values: null }],
    ];
    for (const reply of bad) expect(isMetricsReply(reply)).toBe(false);
  });

  it('[H353] a non-finite value travels as its tag and is restored at the value only; a label or metricName tag stays a string', () => {
    const gauge = (values: unknown[]) => ({ name: 'app_g', help: 'h', type: 'gauge', aggregator: 'sum', values });
    const sent = jsonSafeMetrics([gauge([{ value: Number.NaN, labels: {} }, { value: Infinity, labels: { a: 'x' } }, { value: -Infinity, labels: {} }, { value: 2, labels: {} }])]);
    expect(JSON.parse(JSON.stringify(sent))).toEqual([gauge([{ value: 'NaN', labels: {} }, { value: '+Inf', labels: { a: 'x' } }, { value: '-Inf', labels: {} }, { value: 2, labels: {} }])]);
    const arrived = JSON.parse(JSON.stringify(sent)) as unknown;
    expect(describeMetricsProblem(arrived)).toBeUndefined();
    const restored = completeMetrics(arrived as MetricJson[])[0]!.values.map((entry) => entry.value);
    expect(restored).toEqual([Number.NaN, Infinity, -Infinity, 2]);
    // Tags where no value is stay strings; a null stays null, as before.
    const forged = [gauge([{ value: 1, labels: { x: 'NaN', y: '+Inf' }, metricName: 'NaN' }, { value: null }])] as unknown as MetricJson[];
    expect(describeMetricsProblem(forged)).toBeUndefined();
    expect(completeMetrics(forged)[0]!.values).toEqual([{ value: 1, labels: { x: 'NaN', y: '+Inf' }, metricName: 'NaN' }, { value: null, labels: {} }]);
    for (const bogus of ['nan', 'Infinity', 'inf', '+inf', ' NaN', 'Nan']) expect(isMetricsReply([gauge([{ value: bogus, labels: {} }])])).toBe(false);
  });

  it('[H317] a metrics answer that fails its check says which metric and field, and its error blames the registry, not the IPC', () => {
    const counter = { name: 'app_total', help: 'h', type: 'counter', aggregator: 'sum', values: [{ value: 1, labels: { route: '/' } }] };
    expect(describeMetricsProblem([counter])).toBeUndefined();
    expect(describeMetricsProblem(null)).toBeUndefined();
    const cases: Array<[unknown, string]> = [
      ['text', 'the answer is a string, not the array of metrics getMetricsAsJSON() returns'],
      [[counter, 42], 'metric #1 is a number, not an object'],
      [[{ ...counter, name: 'x 1\nforged 1' }], 'metric #0 is named "x 1\\nforged 1", which is not a Prometheus metric name ([a-zA-Z_:][a-zA-Z0-9_:]*, at most 256 characters)'],
      [[{ ...counter, type: 'gauge\n# x' }], 'metric "app_total" has the type "gauge\\n# x", none of counter, gauge, histogram, summary'],
      [[{ ...counter, aggregator: 'constructor' }], 'metric "app_total" has the aggregator "constructor", none of prom-client\'s (sum, first, omit, average, min, max)'],
      [[{ ...counter, help: 7 }], 'metric "app_total" has a help text that is a number, not a string of at most 4096 characters'],
      [[{ ...counter, values: null }], 'metric "app_total" has values that are null, not an array'],
      [[{ ...counter, values: [{ value: '1\nx', labels: {} }] }], 'metric "app_total", value #0: its value is "1\\nx", not a number (nor "NaN", "+Inf" or "-Inf")'],
      [[{ ...counter, values: [{ value: 1 }, { value: 1, labels: { 'bad"name': 'x' } }] }], 'metric "app_total", value #1: the label name "bad\\"name" is not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*, at most 256 characters)'],
      [[{ ...counter, values: [{ value: 1, labels: { route: {} } }] }], 'metric "app_total", value #0: the label "route" has an object as its value, not a string, number or boolean'],
      [[{ ...counter, values: [{ value: 1, metricName: 'a b' }] }], 'metric "app_total", value #0: its metricName "a b" is not a Prometheus metric name'],
      [[{ ...counter, values: [{ value: 'Infinity', labels: {} }] }], 'metric "app_total", value #0: its value is "Infinity", not a number (nor "NaN", "+Inf" or "-Inf")'],
    ];
    for (const [reply, problem] of cases) {
      expect(describeMetricsProblem(reply)).toBe(problem);
      expect(isMetricsReply(reply)).toBe(false);
    }
    const error = new ProtocolError('worker 2 (pid 9)', 'bad-metrics', '$metrics', cases[8]![1]);
    expect(error.message).toBe(
      'Worker 2 (pid 9) sent an answer to "$metrics" that the metrics merge cannot take: metric "app_total", value #1: the label name "bad\\"name" is not a Prometheus label name ([a-zA-Z_][a-zA-Z0-9_]*, at most 256 characters). ' +
        "Its whole answer was left out of this scrape (counted in clusterkit_worker_scrape_errors_total); the other workers' metrics were merged. " +
        'It comes from the worker\'s metrics registry, not from clusterkit\'s IPC: fix that metric (a registerMetric() with its own get(), or the worker\'s "metricsRegistry").',
    );
    expect(error.message).not.toMatch(/process\.send|IPC protocol/);
  });

  it('records $served once per worker life, and drops a forged payload or a second one', () => {
    const dropped: Array<[string | undefined, ProtocolProblem]> = [];
    const system = new SystemRouter<WorkerRecord>({ receiver: 'the primary', onProtocolError: (_, type, problem) => dropped.push([type, problem]) });
    registerStartupNotices({ system, pool: {} as never, emit: () => {} } as never);
    const record = { hasServed: false, readyAt: 1 } as WorkerRecord;
    expect(kWorkerToPrimaryTypes.has('$served')).toBe(true);
    expect(system.route(record, '$served', { requests: 1 }, false)).toBe(kNoReply);
    expect(system.route(record, '$served', undefined, true)).toBe(kNoReply);
    expect(record.hasServed).toBe(false);
    system.route(record, '$served', undefined, false);
    expect(record.hasServed).toBe(true);
    expect(system.route(record, '$served', undefined, false)).toBe(kNoReply);
    expect(dropped).toEqual([['$served', 'bad-payload'], ['$served', 'wrong-kind'], ['$served', 'unexpected']]);
  });
});
