/**
 * The primary's machinery, built once by the `ClusterPrimary` constructor and handed to its
 * collaborators: each takes the part it needs (`Pick<PrimaryContext, ...>`), so what a module
 * can reach is visible in its signature. Not part of the public API.
 */
import { isSystemType } from '../messaging/envelope.js';
import { SystemRouter } from '../messaging/system-router.js';
import { isNoPayload, kHangupRequest, kPrimaryToWorkerTypes } from '../messaging/system-types.js';
import type { SafeEmitter } from '../safe-emit.js';
import type { AnyMessageMap } from '../types.js';
import { PrimaryLifecycle, type LifecycleHooks } from './lifecycle/primary-lifecycle.js';
import { registerCrashNotice } from './pool/crash-notice.js';
import { registerOpenRequestsNotice } from './pool/open-requests-notice.js';
import { registerOutputLostNotice } from './pool/output-lost-notice.js';
import { HeldRequests } from './pool/held-requests.js';
import { protocolErrorReporter } from './pool/protocol-errors.js';
import { registerStartupNotices } from './pool/startup-notices.js';
import { registerStickyNotices } from './pool/sticky-notices.js';
import { registerStopNotices } from './pool/stop-notices.js';
import { WorkerPool } from './pool/worker-pool.js';
import type { WorkerRecord } from './pool/worker-record.js';
import type { PrimaryEvents } from './primary-events.js';
import type { NormalizedPrimaryOptions } from './primary-options.js';

type Events = PrimaryEvents<AnyMessageMap>;

/** Emits a primary event; a throwing listener is reported, never thrown into the caller. */
export type PrimaryEmit = <E extends keyof Events>(event: E, payload: Parameters<Events[E]>[0]) => void;

export interface PrimaryContext {
  readonly options: NormalizedPrimaryOptions;
  /** The workers: slots, records, round-robin, forking and restarts. */
  readonly pool: WorkerPool;
  /** clusterkit's own messages from workers; features register their types here. */
  readonly system: SystemRouter<WorkerRecord>;
  /** Start, fork, scale, stop, shutdown, reload; the primary's state. */
  readonly lifecycle: PrimaryLifecycle;
  readonly emit: PrimaryEmit;
  /** Whether a primary event has a listener (a payload that costs work is built only then). */
  readonly listens: (event: keyof Events) => boolean;
  /** Reports a failure that belongs to no caller (on `error`; thrown when nobody listens). */
  readonly reportError: (error: Error) => void;
  /** Reports a failure the primary must not die of (on `error`; a process warning when nobody listens). */
  readonly reportWarning: (error: Error) => void;
  /** Says what went as the caller asked, though worth a word (never on `error`: a WARN line, or a process warning). */
  readonly reportNotice: (message: string, code: string) => void;
  /** Reports what a worker's notification's handler threw (on `error`; a process warning when nobody listens). */
  readonly reportHandlerError: (error: Error, what: string, ...thrown: [thrown?: unknown]) => void;
}

/** What the facade supplies: its hooks, and the delivery of user messages from workers. */
export interface PrimaryHooks extends LifecycleHooks {
  /** A user (not `$`-prefixed) request or notification from a worker; returns the reply. */
  onUserMessage(record: WorkerRecord, type: string, payload: unknown, isRequest: boolean): unknown;
}

export function createPrimaryContext(options: NormalizedPrimaryOptions, events: SafeEmitter, hooks: PrimaryHooks): PrimaryContext {
  const emit = events.emit as PrimaryEmit;
  const reportError = events.reportError;
  const system = new SystemRouter<WorkerRecord>({
    receiver: 'the primary',
    describePeer: (record) => record.describe(),
    onProtocolError: protocolErrorReporter(emit),
    outboundTypes: kPrimaryToWorkerTypes,
  });
  // What the primary holds on a worker's behalf (relays waiting for their target) is bounded per worker.
  const held = new HeldRequests(options.maxPendingPerWorker, (record, problem, type) => system.reportDropped(record, problem, type));
  const route = (record: WorkerRecord, type: string, payload: unknown, isRequest: boolean): unknown => system.route(record, type, payload, isRequest);
  // System messages are told apart here, before user code: one prefix test per message.
  const onInbound = (record: WorkerRecord, type: string, payload: unknown, isRequest: boolean, id: number): unknown =>
    isSystemType(type) ? held.route(route, record, type, payload, isRequest, id) : hooks.onUserMessage(record, type, payload, isRequest);
  const pool = new WorkerPool({ options, emit, reportError, reportWarning: events.reportWarning, reportHandlerError: events.reportHandlerError }, onInbound, (record, problem, type) => system.reportDropped(record, problem, type));
  const lifecycle = new PrimaryLifecycle({ options, pool, system, emit, reportError, reportWarning: events.reportWarning, reportNotice: events.reportNotice }, hooks);
  registerStartupNotices({ options, pool, system, emit });
  registerStopNotices({ pool, system, emit });
  registerStickyNotices({ system, emit });
  registerCrashNotice({ system });
  registerOpenRequestsNotice({ system });
  registerOutputLostNotice({ system });
  // A worker's SIGHUP: what the primary did with its own (H291).
  system.register(kHangupRequest, { kind: 'request', check: isNoPayload, handle: () => lifecycle.hangups.answer(options.handleSignals) });
  return Object.freeze({ options, pool, system, lifecycle, emit, listens: events.listens, reportError, reportWarning: events.reportWarning, reportNotice: events.reportNotice, reportHandlerError: events.reportHandlerError });
}
