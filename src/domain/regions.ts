/** ISO 3166-1 alpha-2 ("US") or ISO 3166-2 ("US-CA") code. */
export const REGION_PATTERN = /^[A-Z]{2}(-[A-Z0-9]{1,3})?$/;

export function isRegionCode(value: string): boolean {
  return REGION_PATTERN.test(value);
}

export function countryOf(region: string): string {
  return region.slice(0, 2);
}

/**
 * Whether a rule admits a place. A country rule ("US") admits the country and all its subdivisions;
 * a subdivision rule ("US-CA") admits only that subdivision, so it needs to know the place's subdivision.
 */
export function regionAdmits(rule: string, place: string): boolean {
  if (rule === place) return true;
  if (rule.length === 2) return countryOf(place) === rule;
  return false;
}

/** Whether any rule in `rules` admits `place`. */
export function regionsAdmit(rules: readonly string[], place: string): boolean {
  return rules.some((r) => regionAdmits(r, place));
}

/** Whether every place `inner` admits is also admitted by `outer` (e.g. card regions within program regions). */
export function regionsWithin(inner: readonly string[], outer: readonly string[]): boolean {
  return inner.every((r) => regionsAdmit(outer, r));
}
