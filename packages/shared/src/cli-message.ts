/**
 * A message for the operator on stderr: every line (one per problem) starts with the program's
 * name, so each stands alone in the journal: `lifeline-relay: relay.yaml: listen.port: ...`.
 */
export function operatorMessage(name: string, message: string): string {
  return message
    .split('\n')
    .map((line) => `${name}: ${line}`)
    .join('\n');
}
