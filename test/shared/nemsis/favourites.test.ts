/**
 * Issue 16, item 1: an agency's favourites of the large vocabularies (RxNorm medications, SNOMED
 * procedures, ICD-10 impressions...) come first in the searchable pick-list, in the agency's
 * order; a favourite must be a code of NEMSIS's list, or the settings are refused naming it.
 */
import { describe, expect, it } from 'vitest';
import { demoAgencySettings } from '../../../server/demo/agency.ts';
import { InvalidAgencySettings, parseAgencySettings } from '../../../server/agencies/settings.ts';
import { favouritesFirst, searchVocabulary, vocabularyEntries } from '../../../shared/nemsis/vocabularies.ts';

describe('vocabulary favourites per agency', () => {
  it('the favourites lead the list in the agency\'s order; the rest follows in NEMSIS\'s order, each code once', () => {
    const plain = vocabularyEntries('medication');
    const favourites = ['7242', '1191'];
    const ordered = favouritesFirst('medication', favourites);
    expect(ordered.slice(0, 2).map((e) => e.code)).toEqual(favourites);
    expect(ordered).toHaveLength(plain.length);
    expect(ordered.slice(2).map((e) => e.code)).toEqual(plain.map((e) => e.code).filter((c) => !favourites.includes(c)));
    expect(plain[0]!.code, 'without favourites naloxone is not first').not.toBe('7242');
  });

  it('a search ranks a matching favourite before other matches (an exact code still first)', () => {
    const without = searchVocabulary('impression', 'opioid', 20).map((e) => e.code);
    const favourite = without[without.length - 1]!;
    const withFav = searchVocabulary('impression', 'opioid', 20, [favourite]).map((e) => e.code);
    expect(withFav[0]).toBe(favourite);
    expect(searchVocabulary('medication', '', 3, ['7242']).map((e) => e.code)[0]).toBe('7242');
    expect(searchVocabulary('medication', '1191', 3, ['7242']).map((e) => e.code)[0]).toBe('1191');
  });

  it('agency settings take favourites by vocabulary and refuse a code that is not in the list, naming it', () => {
    const impression = vocabularyEntries('impression')[5]!.code;
    const settings = parseAgencySettings({ ...demoAgencySettings(), favourites: { medication: ['7242', '1191'], impression: [impression] } });
    expect(settings.favourites).toEqual({ medication: ['7242', '1191'], impression: [impression] });
    expect(() => parseAgencySettings({ ...demoAgencySettings(), favourites: { medication: ['Naloxone'] } })).toThrow(InvalidAgencySettings);
    try {
      parseAgencySettings({ ...demoAgencySettings(), favourites: { medication: ['Naloxone'], drugs: ['7242'] } });
    } catch (error) {
      expect(String((error as InvalidAgencySettings).problems ?? (error as Error).message)).toMatch(/Naloxone.*medication|drugs is not a NEMSIS vocabulary/s);
    }
  });
});
