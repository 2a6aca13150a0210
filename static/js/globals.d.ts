// Ambient declarations for the type check of the apps (tsconfig.json here):
// what the pages put on window for tests and benchmarks, the vendored Swagger
// UI's global, and browser extras the DOM lib does not list. Types only; no
// page loads this file.

interface Window {
  phone: unknown;
  manual: unknown;
  room: unknown;
  devices: unknown;
  webkitAudioContext?: typeof AudioContext;
}

interface AudioContext {
  /** Chrome's audio output selection (not yet in the DOM lib). */
  setSinkId?(sinkId: string): Promise<void>;
}

declare const SwaggerUIBundle: ((options: object) => unknown) & { presets: { apis: unknown } };
