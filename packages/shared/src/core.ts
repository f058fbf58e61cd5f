// The package's entry point for the daemons' main processes (edge agent and relay): no config
// schema and nothing that loads zod or yaml (together 6-13 MiB of RSS, issue 11,
// docs/benchmarks.md). Config files are read and validated by the config reader process
// (loadConfigFile), so only their types are exported here. The full entry point (index.ts) adds
// the schemas, for the command-line tools and tests; entry-modules tests in both packages check
// that the daemons load neither zod nor yaml.
export * from './errors.js';
export * from './clock.js';
export * from './backoff.js';
export * from './version.js';
export * from './ssh-keys.js';
export * from './secret-files.js';
export * from './log/logger.js';
export * from './log/peer-text.js';
export * from './config/config-loader.js';
export * from './config/ignored-keys.js';
export type {
  AgentConfig,
  ConsoleConfig,
  SerialConsoleConfig,
  TelnetConsoleConfig,
  SimConsoleConfig,
  IpmiSolConsoleConfig,
  IpmiPrivilege,
  StatusConfig,
  StatusLedConfig,
} from './config/agent-config.js';
export * from './config/agent-consoles.js';
export * from './config/names.js';
export type { EnrolmentFile } from './config/enrolment-file.js';
export type { RelayConfig, RelayUserConfig, RelayDeviceConfig } from './config/relay-config.js';
export type { InventoryStoreConfig } from './config/inventory-store-config.js';
export type { RelayGroupConfig } from './config/relay-group-config.js';
export * from './protocol/index.js';
export * from './cli.js';
export * from './printable.js';
export * from './config/install-paths.js';
export * from './config/startup-checks.js';
export * from './config/make-folder.js';
