import { readFile } from 'node:fs/promises';

/** The process's RLIMIT_NOFILE: soft (enforced) and hard (the most the soft limit may be raised to). */
export interface OpenFileLimit {
  soft: number;
  hard: number;
}

/**
 * Descriptors kept back from connections: stdio, the listener, the admin socket, libuv's own,
 * and files the relay opens for a moment (host key, retention, console logs and recordings
 * being written).
 */
const RESERVED_DESCRIPTORS = 256;

/**
 * Reads the limit from /proc/self/limits (Linux). Node.js itself raises the soft limit to the
 * hard one when it starts (node.cc, PlatformInit), so there is nothing to call here: the relay
 * only reads what it got, logs it and sizes its connection budget from it. Undefined where the
 * file is missing or unreadable (not Linux): then no budget is set.
 */
export async function readOpenFileLimit(path = '/proc/self/limits'): Promise<OpenFileLimit | undefined> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    return undefined;
  }
  return parseOpenFileLimit(text);
}

/** The `Max open files` line of a /proc/PID/limits text; `unlimited` counts as Infinity. */
export function parseOpenFileLimit(text: string): OpenFileLimit | undefined {
  const match = /^Max open files\s+(\S+)\s+(\S+)/m.exec(text);
  if (!match) return undefined;
  const value = (s: string) => (s === 'unlimited' ? Number.POSITIVE_INFINITY : Number(s));
  const soft = value(match[1]!);
  const hard = value(match[2]!);
  return Number.isNaN(soft) || Number.isNaN(hard) ? undefined : { soft, hard };
}

/**
 * Connections the relay accepts at once under `limit`: every connection is a socket, and the
 * rest is kept for files. Past it new connections are refused at accept (and logged), so an
 * agent near the limit is turned away cleanly instead of some later open() failing with EMFILE.
 */
export function connectionBudget(limit: OpenFileLimit): number {
  return Math.max(1, limit.soft - RESERVED_DESCRIPTORS);
}

/** Descriptors the configured devices need at least: one agent socket each, plus the reserve. */
export function descriptorsNeeded(devices: number): number {
  return devices + RESERVED_DESCRIPTORS;
}
