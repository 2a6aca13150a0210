// The one small interface both receiving transports implement (SseReceiver,
// LongPollReceiver): start, stop, and report through hooks. Reconnect policy,
// dedupe and the cursor stay in SignalingClient, so a transport is only "how
// envelopes arrive".

/**
 * What a receiver reports. Calls stop once the receiver is stopped.
 * @typedef {object} ReceiverHooks
 * @property {() => void} open receiving is live (SSE `ready`, or a poll answered)
 * @property {(envelope: any, id: string) => void} message one envelope and its stream id
 * @property {() => void} sessionEnded the server ended our session (401 or `session-ended`)
 * @property {() => void} [ended] the server ended the stream routinely (`event: end`): reconnect at once
 * @property {(info: {readyAt: number}) => void} [failed] the stream broke and the receiver stopped
 *   (readyAt: when it had become ready, 0 if never); the client decides how to reconnect
 * @property {(reason: string) => void} [fallback] SSE gave no sign of life: use long-poll
 * @property {(reason: string) => number} [retrying] a poll failed; returns the ms to wait before the next
 * @property {(cursor: string) => void} [cursor] a poll answered with this cursor
 */

/**
 * @typedef {object} Receiver
 * @property {'sse'|'longpoll'} transport
 * @property {() => void} start
 * @property {() => void} stop after stop no hook is called
 */

export {};
