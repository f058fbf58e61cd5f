/**
 * agent.yaml keys accepted and ignored, so files written for earlier releases still load (unknown
 * keys are errors). The agent logs each one it finds at start; the examples leave them out. Its
 * own module, without zod: the agent's main process must not load the schemas to know these.
 */
export const IGNORED_AGENT_KEYS = ['inputHoldMs'] as const;
