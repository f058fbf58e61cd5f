/**
 * relay.yaml's schemas (and zod with them), loaded at their first use: the daemon does not load
 * them at start (issue 11; relay.yaml is checked by the config reader process). The daemon needs
 * them only for a device in the inventory store and for an operator's change to the store.
 */
export const configSchemas = () => import('@lifeline/shared');
