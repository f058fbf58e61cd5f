export * from './fake-clock.js';
export * from './socket-pair.js';
export * from './collect-bytes.js';
export * from './free-port.js';
export * from './program-copy.js';
export * from './captured-logger.js';
export * from './loaded-modules.js';
