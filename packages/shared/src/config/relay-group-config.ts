import { z } from 'zod';

/** relay.yaml `group`: this relay as a member of a relay group (docs/architecture.md, "Relay groups"). */
export const relayGroupSchema = z
  .object({
    advertise: z
      .object({
        host: z
          .string()
          .min(1)
          .regex(/^[^\s/]+$/, 'a host name or address')
          .describe('Host name or address agents dial to reach this relay.'),
        port: z
          .number()
          .int()
          .min(1)
          .max(65_535)
          .optional()
          .describe('Port agents dial to reach this relay; without it, the port the relay listens on.'),
      })
      .strict()
      .describe("This relay's address as the group's agents should dial it (each member its own; not a load balancer's)."),
    heartbeatMs: z
      .number()
      .int()
      .min(100)
      .max(60_000)
      .default(2_000)
      .describe('How often this relay renews its membership and reads the member list (the fallback when notifications are lost).'),
    expiryMs: z
      .number()
      .int()
      .min(300)
      .max(600_000)
      .default(7_000)
      .describe(
        'A member that has not renewed for this long has left the group (a relay killed or cut off), with its tunnel presence; at least 3 heartbeats.',
      ),
    presenceFlushMs: z
      .number()
      .int()
      .min(10)
      .max(10_000)
      .default(500)
      .describe(
        "What this member holds (its agents' tunnels, its live sessions, its new recordings) is written to the group's tables in one batch this often.",
      ),
  })
  .strict()
  .superRefine((group, ctx) => {
    if (group.expiryMs < 3 * group.heartbeatMs)
      ctx.addIssue({ code: 'custom', path: ['expiryMs'], message: 'must be at least 3 x heartbeatMs' });
  });

export type RelayGroupConfig = z.output<typeof relayGroupSchema>;
