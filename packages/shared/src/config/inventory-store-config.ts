import { z } from 'zod';

const sqliteStore = z
  .object({
    type: z.literal('sqlite').describe("Embedded: one SQLite file in the relay's state folder (mode 0600); no server to run."),
    file: z.string().min(1).default('inventory.db').describe('The database file. Relative: inside stateDir.'),
  })
  .strict();

const postgresStore = z
  .object({
    type: z.literal('postgres').describe('PostgreSQL, shared by the relays of a group; migrations are applied at start.'),
    host: z.string().min(1).describe('Server address or name.'),
    port: z.number().int().min(1).max(65_535).default(5432).describe('Server TCP port.'),
    database: z.string().min(1).default('lifeline').describe('Database name.'),
    user: z.string().min(1).default('lifeline').describe('Database user.'),
    passwordFile: z
      .string()
      .min(1)
      .optional()
      .describe(
        "File whose first line is the database password (mode 0600: refused if group or others may read it); relative to relay.yaml's folder. Without it the relay reads the env LIFELINE_PG_PASSWORD (or connects without a password).",
      ),
    ssl: z.boolean().default(false).describe('Connect with TLS (verifying the server certificate against the system CAs).'),
    connectTimeoutMs: z
      .number()
      .int()
      .min(500)
      .max(60_000)
      .default(5_000)
      .describe('How long a connection attempt may take before the database counts as unreachable.'),
  })
  .strict();

/** Where the inventory the relay learns (CLI users and devices, enrolled agents, tokens) lives. */
export const inventoryStoreSchema = z.discriminatedUnion('type', [sqliteStore, postgresStore]);

export type InventoryStoreConfig = z.output<typeof inventoryStoreSchema>;
