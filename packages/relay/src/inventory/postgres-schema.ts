import type pg from 'pg';
import { LifelineError } from '@lifeline/shared/core';

/** Taken (per transaction) while migrating, so two relays starting at once migrate one after the other. */
const MIGRATION_LOCK = 0x6c6966656c696e65n; // "lifeline"
const migrations: Record<number, string> = {
  1: `
    CREATE TABLE lifeline_users (name TEXT PRIMARY KEY, doc JSONB NOT NULL);
    CREATE TABLE lifeline_devices (id TEXT PRIMARY KEY, doc JSONB NOT NULL);
    CREATE TABLE lifeline_agents (
      device_id TEXT PRIMARY KEY,
      public_key TEXT NOT NULL,
      state TEXT NOT NULL CHECK (state IN ('pending', 'approved', 'revoked')),
      since BIGINT NOT NULL,
      peer TEXT NOT NULL
    );
    CREATE TABLE lifeline_tokens (
      token_hash TEXT PRIMARY KEY,
      device_id TEXT NOT NULL,
      created_at BIGINT NOT NULL,
      expires_at BIGINT NOT NULL,
      created_by TEXT NOT NULL,
      used_at BIGINT
    );
    CREATE INDEX lifeline_tokens_device ON lifeline_tokens (device_id);
  `,
  // Relay groups (group/): the members with their heartbeat, and which member holds a tunnel of
  // which device. Times are the database's clock, so the members' clocks need not agree.
  2: `
    CREATE TABLE lifeline_relays (
      id TEXT PRIMARY KEY,
      host TEXT NOT NULL,
      port INTEGER NOT NULL,
      host_key TEXT NOT NULL,
      started_at TIMESTAMPTZ NOT NULL,
      heartbeat_at TIMESTAMPTZ NOT NULL,
      expires_at TIMESTAMPTZ NOT NULL
    );
    CREATE TABLE lifeline_tunnels (
      relay_id TEXT NOT NULL REFERENCES lifeline_relays (id) ON DELETE CASCADE,
      device_id TEXT NOT NULL,
      peer TEXT NOT NULL,
      since TIMESTAMPTZ NOT NULL,
      PRIMARY KEY (relay_id, device_id)
    );
    CREATE INDEX lifeline_tunnels_device ON lifeline_tunnels (device_id);
  `,
  // The group's session tracker: each member's live console sessions, one row per device with
  // people attached, as its admin socket describes them (group/session-presence.ts).
  3: `
    CREATE TABLE lifeline_sessions (
      relay_id TEXT NOT NULL REFERENCES lifeline_relays (id) ON DELETE CASCADE,
      device_id TEXT NOT NULL,
      snapshot JSONB NOT NULL,
      PRIMARY KEY (relay_id, device_id)
    );
  `,
  // The group's recordings index (group/recording-index.ts): which member's disk holds each
  // recording, by the member's advertised address (a restarted relay has a new member id).
  4: `
    CREATE TABLE lifeline_recordings (
      relay TEXT NOT NULL,
      path TEXT NOT NULL,
      device_id TEXT NOT NULL,
      user_name TEXT NOT NULL,
      session_id TEXT NOT NULL,
      started_at TIMESTAMPTZ NOT NULL,
      ended_at TIMESTAMPTZ,
      size_bytes BIGINT,
      PRIMARY KEY (relay, path)
    );
    CREATE INDEX lifeline_recordings_started ON lifeline_recordings (started_at DESC);
  `,
  // Which member writes each device's continuous console log (group/console-log-holders.ts).
  5: `
    CREATE TABLE lifeline_console_logs (
      device_id TEXT PRIMARY KEY,
      relay_id TEXT NOT NULL REFERENCES lifeline_relays (id) ON DELETE CASCADE
    );
    CREATE INDEX lifeline_console_logs_relay ON lifeline_console_logs (relay_id);
  `,
  // The group's writer lease per device (group/writer-leases.ts): who has read-write, on which
  // member, with a fencing token from a sequence (always larger than any before). Every change,
  // a member's expiry's cascade included, is announced on lifeline_writers with the device id.
  6: `
    CREATE SEQUENCE lifeline_writer_tokens;
    CREATE TABLE lifeline_writers (
      device_id TEXT PRIMARY KEY,
      relay_id TEXT NOT NULL REFERENCES lifeline_relays (id) ON DELETE CASCADE,
      user_name TEXT NOT NULL,
      session_id TEXT NOT NULL,
      token BIGINT NOT NULL DEFAULT nextval('lifeline_writer_tokens'),
      since TIMESTAMPTZ NOT NULL DEFAULT now()
    );
    CREATE INDEX lifeline_writers_relay ON lifeline_writers (relay_id);
    CREATE FUNCTION lifeline_writers_notify() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      PERFORM pg_notify('lifeline_writers', COALESCE(NEW.device_id, OLD.device_id));
      RETURN NULL;
    END $$;
    CREATE TRIGGER lifeline_writers_changed AFTER INSERT OR UPDATE OR DELETE ON lifeline_writers
      FOR EACH ROW EXECUTE FUNCTION lifeline_writers_notify();
  `,
};

/** The schema this relay knows (its last migration); a database migrated further by a newer relay is refused. */
export const POSTGRES_SCHEMA_VERSION = Math.max(...Object.keys(migrations).map(Number));

/**
 * Brings the inventory schema up to POSTGRES_SCHEMA_VERSION inside the caller's transaction, under
 * an advisory lock so two relays starting at once migrate one after the other. Throws
 * INVENTORY_SCHEMA_TOO_NEW for a database a newer relay has migrated further (`where` names it).
 */
export async function migrateInventorySchema(db: pg.PoolClient, where: string): Promise<void> {
  await db.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK.toString()]);
  await db.query('CREATE TABLE IF NOT EXISTS lifeline_schema (version INTEGER NOT NULL)');
  const rows = (await db.query<{ version: number }>('SELECT version FROM lifeline_schema')).rows;
  const found = rows[0]?.version ?? 0;
  if (found > POSTGRES_SCHEMA_VERSION) {
    throw new LifelineError(
      'INVENTORY_SCHEMA_TOO_NEW',
      `${where} has inventory schema version ${found}, newer than this relay knows (${POSTGRES_SCHEMA_VERSION}): upgrade this relay`,
    );
  }
  for (let next = found + 1; next <= POSTGRES_SCHEMA_VERSION; next++) await db.query(migrations[next]!);
  if (rows.length === 0) await db.query('INSERT INTO lifeline_schema (version) VALUES ($1)', [POSTGRES_SCHEMA_VERSION]);
  else if (found < POSTGRES_SCHEMA_VERSION) await db.query('UPDATE lifeline_schema SET version = $1', [POSTGRES_SCHEMA_VERSION]);
}
