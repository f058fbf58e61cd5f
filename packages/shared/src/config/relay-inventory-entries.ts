import { z } from 'zod';
import { ENROL_LOGIN_NAME } from '../protocol/enrolment-wire.js';
import { AGENT_LOGIN_NAME, NAME_MAX_LENGTH, NAME_PATTERN, PEER_LOGIN_NAME } from './names.js';

/*
 * The entries of relay.yaml's `users` and `devices`: also what the inventory admin commands check
 * an entry against before it goes to the store, so both paths take the same rules from here.
 */

const name = z
  .string()
  .min(1)
  .max(NAME_MAX_LENGTH)
  .regex(NAME_PATTERN, 'letters, digits and . _ @ - only, starting with a letter or digit');

/** A control key written `^X`, or `none`: the relay-wide escape key and a person's own. */
export const escapeChar = z.string().regex(/^(\^[@A-Z[\\\]^_]|none)$/, 'a control key written ^X (e.g. "^]") or "none"');

/** A device id, or a glob over device ids: `*` any run of characters, `?` one character. */
export const DEVICE_PATTERN = /^[A-Za-z0-9*?][A-Za-z0-9._@*?-]*$/;
const devicePattern = z
  .string()
  .min(1)
  .max(NAME_MAX_LENGTH)
  .regex(DEVICE_PATTERN, 'a device id or a glob of one (letters, digits, . _ @ - and the wildcards * ?)');

/** Label names and values: short, printable, no spaces (they are matched exactly and shown in menus). */
const LABEL_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._/-]*$/;
const labelText = z.string().min(1).max(63).regex(LABEL_PATTERN, 'letters, digits and . _ / - only, starting with a letter or digit');
const labels = z.record(labelText, labelText);

const scryptHash = z.string().regex(/^\$scrypt\$/, 'must be a hash made by `lifeline-relay hash-password`, not a plain password');

export const relayUserSchema = z
  .object({
    name: name
      .refine(
        (n) => n !== AGENT_LOGIN_NAME && n !== ENROL_LOGIN_NAME && n !== PEER_LOGIN_NAME,
        'lifeline-agent, lifeline-enrol and lifeline-relay are reserved (edge agents and relay group members log in with them)',
      )
      .describe('Login name.'),
    password: scryptHash.optional().describe('Password hash from `lifeline-relay hash-password`; omit to allow keys only.'),
    authorizedKeys: z.array(z.string().min(1)).default([]).describe('OpenSSH public key lines this user may log in with.'),
    devices: z
      .array(devicePattern)
      .default([])
      .describe(
        'Devices this user may reach, by id or glob (`rtr-tokyo-*`). An id that names no device is a warning, not an error (it may be enrolled later). Without defaultDevice, a plain `USER` login reaches the first entry when it is an id, else gets the device menu.',
      ),
    deviceLabels: z
      .array(labels.refine((l) => Object.keys(l).length > 0, 'a selector needs at least one label'))
      .default([])
      .describe(
        'Label selectors: this user may also reach every device carrying all labels of one selector, e.g. `[{ site: tokyo, kind: router }]`.',
      ),
    defaultDevice: name
      .optional()
      .describe('Device a plain `USER` login reaches (if this user may reach it); without it see devices. No default: the device menu.'),
    role: z
      .enum(['engineer', 'supervisor', 'admin'])
      .default('engineer')
      .describe(
        'engineer: read-write on their devices, power status; supervisor: may also take over and change power; admin: the same as supervisor today (reserved for management actions).',
      ),
    escapeChar: escapeChar
      .optional()
      .describe(
        'This person\'s escape key in pty sessions, instead of the relay-wide escapeChar. "none": every byte typed reaches the device unchanged (file transfers from PuTTY, which always asks for a pty); BREAK then only through the client\'s own break (OpenSSH ~B, PuTTY Special Commands).',
      ),
  })
  .strict();

export const relayDeviceSchema = z
  .object({
    id: name.describe('Device id, as used in `USER:DEVICE` logins and in the agent config.'),
    agentKey: z
      .string()
      .min(1)
      .optional()
      .describe(
        'Public key line of the edge agent serving this device (`lifeline-agent pubkey`). Omit it for a device whose agent enrols itself (its approved enrolled key serves it).',
      ),
    description: z.string().optional().describe('Free text shown in listings.'),
    labels: labels
      .default({})
      .describe('Labels for access by selector (users[].deviceLabels) and for listings, e.g. `{ site: tokyo, kind: router }`.'),
    breakMs: z
      .number()
      .int()
      .min(1)
      .max(10_000)
      .default(500)
      .describe('BREAK length when the client asks for the default (PuTTY sends 0).'),
    maxBreakMs: z
      .number()
      .int()
      .min(1)
      .max(10_000)
      .default(3_000)
      .describe('Longest BREAK a client may ask for; longer requests are clamped.'),
  })
  .strict();

export type RelayUserConfig = z.output<typeof relayUserSchema>;
export type RelayDeviceConfig = z.output<typeof relayDeviceSchema>;
