/**
 * What a user name or device id may be: login names are `USER` or `USER:DEVICE`, so no colon. Its
 * own file so the agent can check names (enrolment files) without loading the relay's schema.
 */
export const NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]*$/;
export const NAME_MAX_LENGTH = 64;

/** The SSH user name edge agents log in with; no person may take it. */
export const AGENT_LOGIN_NAME = 'lifeline-agent';

/** The SSH user name members of a relay group log in to each other with (their shared host key); no person may take it. */
export const PEER_LOGIN_NAME = 'lifeline-relay';
