/**
 * Delivers a user message on the receiving side: every message is emitted as an event, then
 * the `_onMessage_<type>` method answers it. Without a method, a listener may answer with
 * `respondWith()`; otherwise the sender gets `NoHandlerError`.
 */
import { InvalidStateError } from '../errors.js';
import { findHandler, handlerNotFound } from './dispatch.js';

export interface RoutedMessage {
  readonly type: string;
  readonly payload: unknown;
  readonly isRequest: boolean;
  readonly hasHandler: boolean;
  respondWith(reply: unknown): void;
}

/** How the receiver reports a message to its listeners; only built when someone listens. */
export interface MessageEmitter<Event extends RoutedMessage> {
  /** Builds the event from the routed message's fields. */
  readonly makeEvent: (message: RoutedMessage) => Event;
  readonly emit: (event: Event) => void;
}

/**
 * Returns the reply (a value or a promise); throws `handlerNotFound()` when nothing answers.
 * `target` holds the `_onMessage_<type>` methods; `handlerContext` is their second argument.
 */
export function routeUserMessage<Event extends RoutedMessage>(
  target: object,
  handlerContext: unknown,
  type: string,
  payload: unknown,
  isRequest: boolean,
  emitter: MessageEmitter<Event> | undefined,
): unknown {
  const handler = findHandler(target, type);
  if (!emitter) {
    if (handler) return handler.call(target, payload, handlerContext);
    throw handlerNotFound(type, 'the receiver');
  }
  let response: { value: unknown } | undefined;
  let isOpen = true;
  const message: RoutedMessage = {
    type,
    payload,
    isRequest,
    hasHandler: handler !== undefined,
    respondWith(reply: unknown) {
      if (!isOpen) throw new InvalidStateError('respondWith() must be called synchronously inside the message listener.');
      if (!isRequest) throw new InvalidStateError(`"${type}" was sent with notify(): there is no one to respond to.`);
      if (handler) throw new InvalidStateError(`"${type}" is answered by its _onMessage_${type} method; respondWith() is for messages without one.`);
      if (response) throw new InvalidStateError(`respondWith() was already called for this "${type}" message.`);
      response = { value: reply };
    },
  };
  emitter.emit(emitter.makeEvent(message));
  isOpen = false;
  if (handler) return handler.call(target, payload, handlerContext);
  if (response) return response.value;
  throw handlerNotFound(type, 'the receiver');
}
