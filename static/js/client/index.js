// The package's entry point: everything an app needs to signal over HTTP and
// run a WebRTC call on top. Each module also stands alone (import
// '@webrtc-http-signaling/client/call.js' for PeerCall over your own channel).

export { SignalingClient, SignalingError, backoffDelay, compareIds } from './signaling.js';
export { PeerCall, isPolite, qualityOf } from './call.js';
export { callOverSignaling, signalingSend } from './call-signaling.js';
export { Emitter } from './emitter.js';
export { MEDIA_ERROR_KEYS, mediaBlockedByInsecurePage, mediaErrorKind } from './media-errors.js';
export { SendQueue } from './send-queue.js';
export { SseReceiver } from './sse-receiver.js';
export { LongPollReceiver } from './longpoll-receiver.js';
