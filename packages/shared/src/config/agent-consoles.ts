import type { AgentConfig, ConsoleConfig } from './agent-config.js';

// What the agent's main process needs of agent.yaml's shape besides its types, apart from the
// schema (agent-config.ts): the schema loads zod, which the agent's main process never loads
// (the config is validated in the reader process; issue 11, docs/benchmarks.md).

/** IPMI privilege levels, as ipmitool's `-L` names them. */
export const IpmiPrivileges = ['CALLBACK', 'USER', 'OPERATOR', 'ADMINISTRATOR', 'OEM'] as const;

/** Where an agent without an enrolled identity looks for an enrolment file (the Pi's boot partition). */
export const WELL_KNOWN_ENROLMENT_FILE = '/boot/firmware/lifeline-enrol.yaml';

/** The consoles an agent serves, whichever form its config uses. */
export function agentConsoles(config: AgentConfig): Array<{ deviceId: string; console: ConsoleConfig }> {
  if (config.consoles) return config.consoles.map(({ device, ...console }) => ({ deviceId: device, console }));
  return [{ deviceId: config.device!, console: config.console! }];
}
