import { describe, expect, it } from 'vitest';
import { xidOrderedNow } from '../../../server/store/postgres.ts';

/**
 * PostgreSQL orders rows by positions derived from the transaction's xid, and stamps them with
 * the clock read once the xid came back: two connections' answers crossing must not leave a
 * larger xid with an earlier stamp (an outbox entry created "before" the one committed ahead of it).
 */
describe('PostgreSQL store: the write time follows the xid order', () => {
  it('a larger xid whose answer came back first never gets an earlier time than a smaller one', () => {
    const schema = `xid-clock-${Math.random()}`;
    expect(xidOrderedNow(schema, 101, 1_000_840)).toBe(1_000_840);
    // xid 100 read the clock a millisecond later: it is stamped no later than xid 101.
    expect(xidOrderedNow(schema, 100, 1_000_841)).toBe(1_000_840);
    // And a later xid no earlier than those before it.
    expect(xidOrderedNow(schema, 102, 1_000_839)).toBe(1_000_840);
    expect(xidOrderedNow(schema, 103, 1_000_900)).toBe(1_000_900);
  });

  it('takes a clock set back (or a test\'s fake time) as it is: only answers crossing are evened out', () => {
    const schema = `xid-clock-${Math.random()}`;
    expect(xidOrderedNow(schema, 10, 2_000_000)).toBe(2_000_000);
    expect(xidOrderedNow(schema, 11, 1_000_000)).toBe(1_000_000);
  });

  it('keeps each schema apart', () => {
    expect(xidOrderedNow(`a-${Math.random()}`, 5, 500)).toBe(500);
    expect(xidOrderedNow(`b-${Math.random()}`, 4, 900)).toBe(900);
  });
});
