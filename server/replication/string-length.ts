import { _, str, type Ajv, type KeywordCxt, type Name } from 'ajv';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
// Ajv's own helpers, as its built-in length keywords use them (CommonJS modules of the ajv package).
const { useFunc } = require('ajv/dist/compile/util') as { useFunc: (gen: KeywordCxt['gen'], f: unknown) => Name };
const ucs2length = (require('ajv/dist/runtime/ucs2length') as { default: (s: string) => number }).default;

/**
 * `maxLength` and `minLength` with ajv's meaning (lengths in code points, as RxDB's validator on
 * the device counts them) but without counting code points when the UTF-16 length already
 * decides: a string of at most N units has at most N code points, and one of at least 2N units
 * has at least N. Ajv's built-in counts every string of every document, which was a visible part
 * of validating a push of ePCRs.
 */
export function useFastStringLengths(ajv: Ajv): void {
  ajv.removeKeyword('maxLength');
  ajv.removeKeyword('minLength');
  ajv.addKeyword({
    keyword: ['maxLength', 'minLength'],
    type: 'string',
    schemaType: 'number',
    error: {
      message: ({ keyword, schemaCode }) => str`must NOT have ${keyword === 'maxLength' ? 'more' : 'fewer'} than ${schemaCode} characters`,
      params: ({ schemaCode }) => _`{limit: ${schemaCode}}`,
    },
    code(cxt: KeywordCxt) {
      const { keyword, data, schemaCode } = cxt;
      const codePoints = useFunc(cxt.gen, ucs2length);
      cxt.fail(keyword === 'maxLength'
        ? _`${data}.length > ${schemaCode} && ${codePoints}(${data}) > ${schemaCode}`
        : _`${data}.length < ${schemaCode} || (${data}.length < 2 * ${schemaCode} && ${codePoints}(${data}) < ${schemaCode})`);
    },
  });
}
