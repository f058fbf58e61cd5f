import { agentConfigSchema, type AgentConfig } from './agent-config.js';
import { enrolmentFileSchema, type EnrolmentFile } from './enrolment-file.js';
import { relayConfigSchema, type RelayConfig } from './relay-config.js';

/**
 * The config files lifeline reads, by name: the config worker looks the schema up here, so what
 * crosses into the worker is a name (a schema is code and cannot be posted to another isolate).
 */
export const configSchemas = {
  relay: relayConfigSchema,
  agent: agentConfigSchema,
  enrolment: enrolmentFileSchema,
} as const;

/** Which config file: `relay` (relay.yaml), `agent` (agent.yaml), `enrolment` (an enrolment file). */
export type ConfigKind = keyof typeof configSchemas;

/** The validated, defaulted value of a config file of kind K. */
export interface ConfigOf {
  relay: RelayConfig;
  agent: AgentConfig;
  enrolment: EnrolmentFile;
}
