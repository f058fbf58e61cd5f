import type { Logger } from '@lifeline/shared/core';
import { newEnrolmentToken } from './enrolment-token.js';
import type { EnrolledAgent, InventoryStore } from './inventory-store.js';

export interface EnrolmentAdminOptions {
  store: InventoryStore;
  now: () => number;
  /** Closes the device's tunnel at once (revoke). */
  closeTunnel: (deviceId: string, reason: string) => void;
  logger: Logger;
}

/** What `enrol` answers the CLI (over the 0600 admin socket): the token, shown once. */
export interface EnrolAdminAnswer {
  deviceId: string;
  token: string;
  expiresAt: string;
  created: boolean;
}

/**
 * The admin commands of enrolment: `enrol` (creates the device if needed, stores a new token's
 * hash), `approve`, `revoke` (closes the tunnel). Audit events agent.approved and agent.revoked;
 * the token is never logged. Throws for the CLI to print (unknown device, no enrolled agent).
 */
export class EnrolmentAdmin {
  constructor(private readonly options: EnrolmentAdminOptions) {}

  async enrol(deviceId: string, ttlMs: number, labels: Record<string, string>, by: string): Promise<EnrolAdminAnswer> {
    const { store, now } = this.options;
    const known = (await store.load()).devices.find((d) => d.id === deviceId);
    if (!known) await store.putDevice({ id: deviceId, labels });
    else if (Object.keys(labels).length > 0) await store.putDevice({ ...known, labels: { ...known.labels, ...labels } });
    const { token, tokenHash } = newEnrolmentToken();
    const createdAt = now();
    await store.addToken({ deviceId, tokenHash, createdAt, expiresAt: createdAt + ttlMs, createdBy: by });
    this.options.logger.info(
      { event: 'enrolment.token-created', deviceId, by, expiresAt: new Date(createdAt + ttlMs).toISOString(), deviceCreated: !known },
      `enrolment token made for ${deviceId}`,
    );
    return { deviceId, token, expiresAt: new Date(createdAt + ttlMs).toISOString(), created: !known };
  }

  async approve(deviceId: string, by: string): Promise<EnrolledAgent> {
    const agent = await this.options.store.setAgentState(deviceId, 'approved', this.options.now());
    if (!agent) throw new Error(`${deviceId} has no enrolled agent`);
    if (agent.state !== 'approved') throw new Error(`${deviceId}'s agent is ${agent.state}; it must enrol again with a new token`);
    this.options.logger.info({ event: 'agent.approved', deviceId, by, peer: agent.peer }, `agent for ${deviceId} approved`);
    return agent;
  }

  async revoke(deviceId: string, by: string): Promise<EnrolledAgent> {
    const agent = await this.options.store.setAgentState(deviceId, 'revoked', this.options.now());
    if (!agent) throw new Error(`${deviceId} has no enrolled agent`);
    this.options.closeTunnel(deviceId, `agent revoked by ${by}`);
    this.options.logger.info({ event: 'agent.revoked', deviceId, by, peer: agent.peer }, `agent for ${deviceId} revoked`);
    return agent;
  }

  /** Enrolled agents for `devices`: pending and revoked ones are what an operator looks for. */
  async agents(): Promise<EnrolledAgent[]> {
    return (await this.options.store.load()).agents;
  }
}
