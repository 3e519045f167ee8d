import countries from 'i18n-iso-countries';

/**
 * Codes card networks use beside ISO 3166-1's: Kosovo has no ISO code (networks send QZZ, some
 * XKX; XK is the user-assigned alpha-2 everyone uses), and the Netherlands Antilles (dissolved
 * 2010, ANT/AN) still appears on older merchant records.
 */
const NETWORK_CODES: Readonly<Record<string, string>> = { QZZ: 'XK', XKX: 'XK', ANT: 'AN' };

/** ISO 3166-1 alpha-3 (as Lithic names merchant countries) → alpha-2; null when unknown. */
export function alpha3ToAlpha2(code: string | null | undefined): string | null {
  if (!code) return null;
  const upper = code.trim().toUpperCase();
  return NETWORK_CODES[upper] ?? countries.alpha3ToAlpha2(upper) ?? null;
}
