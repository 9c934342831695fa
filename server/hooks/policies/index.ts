import type { WritePolicy } from '../../replication/write-policy.ts';
import { derivedIdsPolicy } from './derived-ids.ts';
import { epcrAddendumPolicy } from './epcr-addendum.ts';
import { jobReopenPolicy } from './job-reopen.ts';

/**
 * The product's write policies (server/replication/write-policy.ts), in the order push asks
 * them. Adding one is a file in this folder and a line here.
 */
export const DOMAIN_WRITE_POLICIES: readonly WritePolicy[] = [derivedIdsPolicy, epcrAddendumPolicy, jobReopenPolicy];
