import { StartupProblems, agentPaths, loadConfigFile, type AgentConfig, type AgentPaths, type SshKeyPair } from '@lifeline/shared/core';

/** The agent key's comment: names the (first) device it serves. */
export function agentKeyComment(paths: AgentPaths): string {
  return `lifeline-agent@${paths.consoles[0]!.deviceId}`;
}

/** What a start (or `check`) found: the config, its paths, the key if it exists yet. */
export interface AgentPlan {
  config: AgentConfig;
  paths: AgentPaths;
  /** Undefined when the key file does not exist yet (a start generates it). */
  key: SshKeyPair | undefined;
}

/**
 * Everything an agent start checks before it changes anything, shared by `run` and `check`: the
 * config (schema), the key file (mode, regular file, parses) and the state folder the key lives
 * in (or will be generated in). Creates nothing. Throws CONFIG_* for an unreadable or invalid
 * file; otherwise one ConfigError listing every problem found.
 */
export async function preflightAgent(configFile: string): Promise<AgentPlan> {
  const config = await loadConfigFile(configFile, 'agent');
  const paths = agentPaths(config, configFile);
  const problems = new StartupProblems(configFile);
  await problems.writableFolder('stateDir', paths.stateDir);
  const key = await problems.keyFile('keyFile', paths.keyFile, agentKeyComment(paths));
  problems.throwIfAny();
  return { config, paths, key };
}
