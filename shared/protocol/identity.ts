/** Who is asking: the roles and the identity a token carries (docs/protocol.md §3). */
export type Role = 'crew' | 'dispatcher' | 'technician' | 'biller' | 'admin';
export const ROLES: readonly Role[] = ['crew', 'dispatcher', 'technician', 'biller', 'admin'];

/** Who is asking: flows through pull, push and the stream so every access can be scoped. */
export interface Identity {
  tenantId: string;
  role: Role;
  deviceId: string;
  userId: string;
  /** Crews belong to a unit. */
  unitId?: string;
  /** Technicians are themselves the assignee of jobs. */
  technicianId?: string;
}
