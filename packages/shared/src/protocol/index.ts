export * from './telnet-constants.js';
export * from './telnet-parser.js';
export * from './telnet-encoder.js';
export * from './option-negotiator.js';
export * from './rfc2217.js';
export * from './com-port-responder.js';
export * from './console-status.js';
export * from './telnet-endpoint.js';
