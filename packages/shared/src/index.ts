export * from './agent.js';
export * from './config/relay-config.js';
