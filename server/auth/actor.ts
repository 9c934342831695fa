import type { Identity } from '../../shared/protocol/index.ts';
import type { Actor } from '../store/types.ts';

/** Who did it, as the store records it (audit, quarantine, commits): the signed-in person on their device. */
export function actorOf(identity: Identity): Actor {
  return { kind: 'device', tenantId: identity.tenantId, userId: identity.userId, deviceId: identity.deviceId, role: identity.role };
}
