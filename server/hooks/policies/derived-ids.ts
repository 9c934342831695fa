import { nounOf } from '../../../shared/access/policy.ts';
import { derivedIdAgencyTag } from '../../../shared/domain/ids.ts';
import { RefusalCode } from '../../../shared/protocol/index.ts';
import { COLLECTION_NAMES } from '../../../shared/schemas/index.ts';
import type { WritePolicy } from '../../replication/write-policy.ts';
import { agencyTagOf } from '../ids.ts';

/**
 * No agency writes under an id made for another (issue 17: derived ids were plain hashes of
 * agency and incident number, so another agency could create a document under the id of a CAD
 * incident or unit before it arrived, and the rightful agency's write then failed). Derived ids
 * carry the tag of their agency (shared/domain/ids.ts); a device may write a derived id only of
 * its own agency. Random ids (every other document) are not affected.
 */
export const derivedIdsPolicy: WritePolicy = {
  name: 'derived-ids',
  collections: COLLECTION_NAMES,
  vetoId({ collection, identity, id }) {
    const tag = derivedIdAgencyTag(id);
    if (tag === undefined || tag === agencyTagOf(identity.tenantId)) return undefined;
    return {
      code: RefusalCode.OUT_OF_SCOPE,
      reason: `The id ${id} was made for another agency's ${nounOf(collection)} (derived ids carry their agency); a device creates documents under random ids, or under ids derived for its own agency.`,
    };
  },
};
