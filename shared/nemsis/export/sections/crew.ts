/** eCrew: each crew member's id, level and roles on this response (an optional section: written only when the report names a crew). */
import type { Epcr } from '../../../schemas/index.ts';
import { group, leaf, leaves, optionalGroup } from '../nemsis-tree.ts';
import { text, texts } from '../values.ts';
import type { XmlElement } from '../xml-writer.ts';

export function eCrew(epcr: Epcr): XmlElement | undefined {
  const members = (epcr.crew ?? []).map((member) => optionalGroup('eCrew.CrewGroup', [
    leaf('eCrew.01', text(member.memberId)),
    leaf('eCrew.02', text(member.level)),
    leaves('eCrew.03', texts(member.roles)),
  ])).filter((member): member is XmlElement => member !== undefined);
  return members.length > 0 ? group('eCrew', members) : undefined;
}
