// The package's entry point for the edge agent: everything but the relay's config schema, whose
// zod objects cost the agent about 3-5 MiB of RSS for nothing (issue 11, docs/benchmarks.md).
// The full entry point (index.ts) is this plus the relay's schema.
export * from './errors.js';
export * from './clock.js';
export * from './backoff.js';
export * from './version.js';
export * from './ssh-keys.js';
export * from './secret-files.js';
export * from './log/logger.js';
export * from './log/peer-text.js';
export * from './config/config-loader.js';
export * from './config/agent-config.js';
export * from './config/names.js';
export * from './config/enrolment-file.js';
export * from './protocol/index.js';
export * from './cli.js';
export * from './printable.js';
export * from './config/log-config.js';
export * from './config/install-paths.js';
export * from './config/startup-checks.js';
export * from './config/make-folder.js';
