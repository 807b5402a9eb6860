/**
 * The `MessageContext` a handler receives as its second argument. Contexts for the primary's
 * messages are immutable and shared: one per type and kind, instead of one per message.
 */
import type { RelaySender } from '../messaging/system-types.js';
import type { MessageContext, MessageSender } from './worker-events.js';

const contexts = [new Map<string, MessageContext>(), new Map<string, MessageContext>()] as const;
/** Bounds the cache when a peer sends many distinct types. */
const kMaxCachedContexts = 1_024;

export function messageContext(type: string, isRequest: boolean, from: MessageSender): MessageContext {
  if (from !== 'primary') return Object.freeze({ type, isRequest, from });
  const cache = contexts[isRequest ? 1 : 0];
  let context = cache.get(type);
  if (!context) {
    if (cache.size >= kMaxCachedContexts) cache.clear();
    context = Object.freeze({ type, isRequest, from });
    cache.set(type, context);
  }
  return context;
}

/** The sender of a relayed message, as the primary described it; never trusted blindly. */
export function relaySender(from: Partial<RelaySender> | undefined): RelaySender {
  return { workerId: Number(from?.workerId), name: typeof from?.name === 'string' ? from.name : undefined };
}
