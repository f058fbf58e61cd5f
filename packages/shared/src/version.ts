/** The lifeline release, reported in logs (`version` field) and to the relay by agents. */
export const LIFELINE_VERSION = '0.1.0';
