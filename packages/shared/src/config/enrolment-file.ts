import { stringify } from 'yaml';
import { z } from 'zod';
import { ENROL_TOKEN_PATTERN } from '../protocol/enrolment-wire.js';
import { statusConfigSchema } from './agent-config.js';
import { NAME_MAX_LENGTH, NAME_PATTERN } from './names.js';

export { WELL_KNOWN_ENROLMENT_FILE } from './agent-consoles.js';

/**
 * The enrolment file `lifeline-relay enrol` writes and the agent reads: everything a fresh Pi
 * needs to bind its own new key to one device. It holds a secret (the token): mode 0600, and
 * useless once spent or expired.
 */
export const enrolmentFileSchema = z
  .object({
    relay: z
      .object({
        host: z.string().min(1).describe('Relay name or address the Pi dials.'),
        port: z.number().int().min(1).max(65_535).describe('Relay SSH port.'),
        hostKey: z
          .string()
          .regex(/^SHA256:[A-Za-z0-9+/]{43}$/, 'SHA256:... as `lifeline-relay fingerprint` prints it')
          .describe("The relay's host key fingerprint; the Pi refuses any other relay."),
      })
      .strict()
      .describe('The relay to enrol with.'),
    device: z.string().min(1).max(NAME_MAX_LENGTH).regex(NAME_PATTERN).describe('Device id this Pi will serve.'),
    token: z
      .string()
      .regex(ENROL_TOKEN_PATTERN, '32 lowercase hex digits from `lifeline-relay enrol`')
      .describe('One-time enrolment token.'),
    console: z
      .string()
      .min(1)
      .optional()
      .describe('Serial device of the console (e.g. /dev/serial/by-id/...); without it, the single adapter in /dev/serial/by-id.'),
    status: statusConfigSchema
      .prefault({})
      .describe(
        "The status LED and hook, as agent.yaml's `status`: they show the enrolment's state (docs/status-led.md) and are copied into the agent.yaml it writes.",
      ),
  })
  .strict();

export type EnrolmentFile = z.output<typeof enrolmentFileSchema>;

/**
 * The file's text, with a header saying what it is and that it is secret: the given keys only
 * (checked against the schema first), so defaults are left to the reader.
 */
export function renderEnrolmentFile(file: z.input<typeof enrolmentFileSchema>): string {
  enrolmentFileSchema.parse(file);
  return (
    `# lifeline enrolment file for ${file.device}: copy it to the Pi's boot partition as lifeline-enrol.yaml.\n` +
    `# It holds a one-time secret: keep it private; it is useless once used or expired.\n` +
    stringify(file)
  );
}
