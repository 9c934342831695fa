/** eProtocols: one ProtocolGroup per protocol the crew worked by (a required section: Not Recorded when none is named). */
import type { Epcr } from '../../../schemas/index.ts';
import { group, leaf } from '../nemsis-tree.ts';
import { texts } from '../values.ts';
import type { XmlElement } from '../xml-writer.ts';

export function eProtocols(epcr: Epcr): XmlElement {
  return group('eProtocols', texts(epcr.protocols?.used).map((protocol) => group('eProtocols.ProtocolGroup', [leaf('eProtocols.01', protocol)])));
}
