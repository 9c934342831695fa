import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, REFUSAL_CODES } from '../../../shared/protocol/index.ts';

const PROTOCOL_MD = readFileSync(path.resolve(import.meta.dirname, '../../../docs/protocol.md'), 'utf8');

/** The body of one `## ` section of docs/protocol.md. */
function section(title: string): string {
  const start = PROTOCOL_MD.indexOf(`\n## ${title}`);
  if (start < 0) throw new Error(`docs/protocol.md has no section "## ${title}"`);
  const end = PROTOCOL_MD.indexOf('\n## ', start + 1);
  return PROTOCOL_MD.slice(start, end < 0 ? undefined : end);
}

/** Every code in the code column of the section's tables (the column headed `` `code` `` or `Code`). */
function tableCodes(text: string): string[] {
  const codes: string[] = [];
  let column = -1;
  for (const line of text.split('\n')) {
    if (!line.startsWith('|')) {
      column = -1;
      continue;
    }
    const cells = line.split('|').slice(1, -1).map((c) => c.trim());
    const header = cells.findIndex((c) => c === '`code`' || c === 'Code');
    if (column < 0 && header >= 0) {
      column = header;
      continue;
    }
    if (column < 0 || /^-+$/.test(cells[0] ?? '')) continue;
    for (const [, code] of (cells[column] ?? '').matchAll(/`([A-Z][A-Z0-9_]*)`/g)) codes.push(code!);
  }
  return codes;
}

describe('docs/protocol.md and the protocol\'s codes say the same', () => {
  it('§13 Errors lists every ErrorCode, once, and no code the server does not have', () => {
    const documented = tableCodes(section('13. Errors'));
    expect([...documented].sort()).toEqual([...ERROR_CODES].sort());
  });

  it('§9 lists every RefusalCode, and only those', () => {
    const documented = tableCodes(section('9. Access rules per role'));
    expect([...documented].sort()).toEqual([...REFUSAL_CODES].sort());
  });
});
