import { isRegionCode, regionAdmits, regionsAdmit, regionsWithin } from './regions';

describe('regions (ISO 3166-1 / 3166-2)', () => {
  it('recognises country and subdivision codes', () => {
    for (const ok of ['US', 'US-CA', 'GB-ENG', 'FR-75', 'DE-BY']) expect(isRegionCode(ok)).toBe(true);
    for (const bad of ['us', 'USA', 'US-', 'US-CALI', 'U', '', 'US CA'])
      expect(isRegionCode(bad)).toBe(false);
  });

  it('a country rule admits the country and its subdivisions; a subdivision rule admits only itself', () => {
    expect(regionAdmits('US', 'US')).toBe(true);
    expect(regionAdmits('US', 'US-CA')).toBe(true);
    expect(regionAdmits('US-CA', 'US-CA')).toBe(true);
    expect(regionAdmits('US-CA', 'US')).toBe(false); // the merchant's subdivision is needed
    expect(regionAdmits('US-CA', 'US-NY')).toBe(false);
    expect(regionAdmits('US', 'CA')).toBe(false);
    expect(regionAdmits('CA', 'US-CA')).toBe(false); // Canada is not California
  });

  it('checks lists', () => {
    expect(regionsAdmit(['DE', 'US-CA'], 'US-CA')).toBe(true);
    expect(regionsAdmit(['DE', 'US-CA'], 'US-NV')).toBe(false);
    expect(regionsWithin(['US-CA', 'US-NY'], ['US'])).toBe(true);
    expect(regionsWithin(['US'], ['US-CA'])).toBe(false);
    expect(regionsWithin([], ['US'])).toBe(true);
  });
});
