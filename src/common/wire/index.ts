// The data-plane codec (docs/protocol.md): frames, message headers, blocks and their errors.
export * from './block.js';
export * from './decoder.js';
export * from './frame.js';
export * from './messages.js';
export * from './parts.js';
export * from './stream-messages.js';
export * from './wire-error.js';
export * from './ess-messages.js';
export * from './auth-messages.js';
