import { z } from 'zod';

/** The `log` section, the same in relay.yaml and agent.yaml. */
export const logConfigSchema = z
  .object({
    level: z
      .enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace'])
      .default('info')
      .describe('Least severe level logged; console bytes appear only at trace.'),
    pretty: z.boolean().default(false).describe('Coloured human output instead of JSON lines.'),
  })
  .strict()
  .prefault({})
  .describe('Logging: JSON lines on stdout.');
