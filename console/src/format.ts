/** Display helpers: money in minor units, times, labels. Money is never computed in floats here. */

const digitsCache = new Map<string, number>();

/** How many minor-unit digits a currency has (USD 2, JPY 0). */
export function currencyDigits(currency: string): number {
  let d = digitsCache.get(currency);
  if (d === undefined) {
    try {
      d =
        new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions()
          .maximumFractionDigits ?? 2;
    } catch {
      d = 2;
    }
    digitsCache.set(currency, d);
  }
  return d;
}

/** "$12.34" from 1234 USD; the decimal point is placed on the digits' string, not by division. */
export function money(minor: number | null | undefined, currency: string): string {
  if (minor === null || minor === undefined || !Number.isFinite(minor)) return '—';
  const d = currencyDigits(currency);
  const negative = minor < 0;
  const digits = String(Math.abs(Math.trunc(minor))).padStart(d + 1, '0');
  const whole = digits.slice(0, digits.length - d) || '0';
  const frac = d ? digits.slice(digits.length - d) : '';
  const grouped = whole.replace(/\B(?=(\d{3})+(?!\d))/g, ',');
  let symbol = `${currency} `;
  try {
    const part = new Intl.NumberFormat('en', { style: 'currency', currency, currencyDisplay: 'narrowSymbol' })
      .formatToParts(0)
      .find((p) => p.type === 'currency');
    if (part) symbol = part.value;
  } catch {
    // unknown code: shown as "XYZ 1.00"
  }
  return `${negative ? '−' : ''}${symbol}${grouped}${frac ? `.${frac}` : ''}`;
}

/**
 * Minor units from what an operator typed ("120", "120.5", "1,200.00"): null when it is not an
 * amount in that currency (too many decimals, letters, negative).
 */
export function parseMoney(input: string, currency: string): number | null {
  const d = currencyDigits(currency);
  const s = input.trim().replace(/,/g, '');
  const m = /^(\d{1,13})(?:\.(\d*))?$/.exec(s);
  if (!m) return null;
  const frac = m[2] ?? '';
  if (frac.length > d) return null;
  const n = Number(m[1]) * 10 ** d + Number(frac.padEnd(d, '0') || '0');
  return Number.isSafeInteger(n) ? n : null;
}

/** The amount as an operator would type it back ("120.50"). */
export function moneyInput(minor: number, currency: string): string {
  const d = currencyDigits(currency);
  const digits = String(minor).padStart(d + 1, '0');
  return d ? `${digits.slice(0, -d)}.${digits.slice(-d)}` : digits;
}

const dateTime = new Intl.DateTimeFormat(undefined, {
  year: 'numeric',
  month: 'short',
  day: '2-digit',
  hour: '2-digit',
  minute: '2-digit',
  second: '2-digit',
});
const hourOnly = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit' });

export const when = (iso: string | null | undefined): string => (iso ? dateTime.format(new Date(iso)) : '—');
export const hourLabel = (iso: string): string => hourOnly.format(new Date(iso));

export function ago(iso: string, now = Date.now()): string {
  const s = Math.round((now - Date.parse(iso)) / 1000);
  if (s < 60) return `${Math.max(0, s)} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86_400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} d ago`;
}

/** "set_spending_limits" → "Set spending limits". */
export function label(code: string): string {
  const s = code.replace(/[_.]/g, ' ').toLowerCase();
  return s.charAt(0).toUpperCase() + s.slice(1);
}

export const INTERVAL_LABEL: Record<string, string> = {
  per_authorization: 'Per authorization',
  daily: 'Daily',
  weekly: 'Weekly',
  monthly: 'Monthly',
  yearly: 'Yearly',
  all_time: 'All time',
};

export function pretty(value: unknown): string {
  if (value === undefined) return '—';
  if (typeof value === 'string') return value;
  return JSON.stringify(value, null, 2);
}

/** A one-line rendering of a value for tables (objects compact). */
export function brief(value: unknown): string {
  if (value === null || value === undefined) return '—';
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean')
    return String(value);
  return JSON.stringify(value);
}
