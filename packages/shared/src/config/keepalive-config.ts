import { z } from 'zod';

/**
 * SSH keepalives, one schema for both sides (the agent towards its relay, the relay towards
 * agents and people), so their defaults cannot drift: 6 s x 2, a dead link noticed within about
 * 18 s while a 12 s stall (a slow 4G handover) passes (docs/benchmarks.md, "Dead link").
 */
export function keepaliveSchema(towards: string, describe: string) {
  return z
    .object({
      intervalMs: z
        .number()
        .int()
        .min(1_000)
        .default(6_000)
        .describe(
          `SSH keepalive interval towards ${towards}. A dead link is noticed after about interval x (countMax + 1): 18 s by default.`,
        ),
      countMax: z.number().int().min(1).default(2).describe('Unanswered keepalives before a connection counts as dead.'),
    })
    .strict()
    .prefault({})
    .describe(describe);
}
