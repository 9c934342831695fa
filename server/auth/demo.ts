import { AUTH, patternOf, type Role } from '../../shared/protocol/index.ts';
import { hashPassword } from './passwords.ts';
import type { IdentityStore } from './identity-store.ts';
import { randomUUID } from 'node:crypto';

/** The demo agency `npm start` creates on first start (only while SEED_DEMO is on, the default in development). */
export const DEMO_TENANT = 'demo';

export interface DemoUser {
  username: string;
  password: string;
  role: Role;
  unitId?: string;
  technicianId?: string;
  displayName: string;
}

/** Fixed, published credentials: for trying the product out, never for real data. */
export const DEMO_USERS: readonly DemoUser[] = [
  { username: 'crew-m1', password: 'demo-crew-m1-pass', role: 'crew', unitId: 'M1', displayName: 'Medic 1 crew' },
  { username: 'dispatcher', password: 'demo-dispatcher-pass', role: 'dispatcher', displayName: 'Dispatcher' },
  { username: 'tech-t1', password: 'demo-tech-t1-pass', role: 'technician', technicianId: 'T1', displayName: 'Field technician T1' },
  { username: 'biller', password: 'demo-biller-pass', role: 'biller', displayName: 'Billing office' },
  { username: 'office', password: 'demo-office-pass', role: 'office', displayName: 'Field-service office' },
  { username: 'admin', password: 'demo-admin-pass', role: 'admin', displayName: 'Agency administrator' },
];

/**
 * Creates the demo agency with one user of each role, unless an agency of that name already
 * has users (then nothing is touched: idempotent, and changes an admin made are kept).
 */
export async function seedDemoTenant(identities: IdentityStore, tenantId = DEMO_TENANT): Promise<{ created: boolean }> {
  if (await identities.tenantExists(tenantId)) return { created: false };
  const hashed = await Promise.all(DEMO_USERS.map(async (user) => ({ user, hash: await hashPassword(user.password) })));
  const now = Date.now();
  // Checked again inside the store's transaction (PostgreSQL: under an advisory lock): several
  // processes starting at once create the agency once, and all of them then see the same user ids.
  const created = await identities.createTenantUsers(tenantId, hashed.map(({ user, hash }) => ({
    id: randomUUID(), tenantId, username: user.username, passwordHash: hash, role: user.role,
    unitId: user.unitId, technicianId: user.technicianId, displayName: user.displayName, createdAt: now,
  })));
  return { created };
}

export function demoCredentialsText(tenantId = DEMO_TENANT): string {
  const lines = DEMO_USERS.map((u) => `  ${u.role.padEnd(11)} ${u.username.padEnd(11)} ${u.password.padEnd(22)}${u.unitId ? ` unit ${u.unitId}` : ''}${u.technicianId ? ` technician ${u.technicianId}` : ''}`);
  return [
    `Demo agency "${tenantId}" (POST ${patternOf(AUTH.login)} {tenantId, username, password, deviceId}) — demo only, never for real patient data:`,
    `  ${'role'.padEnd(11)} ${'username'.padEnd(11)} ${'password'.padEnd(22)}`,
    ...lines,
  ].join('\n');
}
