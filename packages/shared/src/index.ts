export * from './core.js';
export * from './config/agent-config.js';
export * from './config/enrolment-file.js';
export * from './config/log-config.js';
export * from './config/relay-config.js';
