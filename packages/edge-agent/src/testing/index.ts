export * from './memory-console-port.js';
