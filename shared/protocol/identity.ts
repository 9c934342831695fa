/** Who is asking: the roles and the identity a token carries (docs/protocol.md §3). */
/** `office`: the field-service office, which enters sales orders and completes them (issue 20). */
export type Role = 'crew' | 'dispatcher' | 'technician' | 'biller' | 'office' | 'admin';
export const ROLES: readonly Role[] = ['crew', 'dispatcher', 'technician', 'biller', 'office', 'admin'];

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
