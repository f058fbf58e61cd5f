/** Majors of Node.js that lifeline runs on, oldest first: 20 (edge agent, shared) and 24 (relay). */
export declare const nodeMajors: readonly number[];

/** A Node.js binary found for a major, or one line saying why there is none and what to do. */
export type NodeLookup =
  { path: string; version: string; problem?: undefined } | { problem: string; path?: undefined; version?: undefined };

/**
 * The Node.js binary for `major`: this process's own when it is that major and new enough, else
 * the one `npm ci` bundled (checked to run and to report that major). Never throws.
 * @param root the checkout whose node_modules to look in; the repository's own by default
 */
export declare function findNode(major: number, root?: string): NodeLookup;
