/**
 * Calendar windows in a program's time zone, DST-safe: a "week" starts at local midnight on the
 * program's weekStartsOn, whatever the UTC offset is that day. Pure (Intl only), usable in workflows.
 */
export const WEEKDAYS = [
  'sunday',
  'monday',
  'tuesday',
  'wednesday',
  'thursday',
  'friday',
  'saturday',
] as const;
export type Weekday = (typeof WEEKDAYS)[number];

interface LocalParts {
  year: number;
  month: number; // 1-12
  day: number;
  hour: number;
  minute: number;
  second: number;
  weekday: number; // 0 = Sunday
}

const formatters = new Map<string, Intl.DateTimeFormat>();
function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      year: 'numeric',
      month: 'numeric',
      day: 'numeric',
      hour: 'numeric',
      minute: 'numeric',
      second: 'numeric',
      weekday: 'short',
    });
    formatters.set(timeZone, f);
  }
  return f;
}

const SHORT_DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];

export function isValidTimeZone(timeZone: string): boolean {
  try {
    formatter(timeZone);
    return true;
  } catch {
    return false;
  }
}

export function localParts(instantMs: number, timeZone: string): LocalParts {
  const parts: Record<string, string> = {};
  for (const p of formatter(timeZone).formatToParts(new Date(instantMs))) parts[p.type] = p.value;
  return {
    year: Number(parts.year),
    month: Number(parts.month),
    day: Number(parts.day),
    hour: Number(parts.hour),
    minute: Number(parts.minute),
    second: Number(parts.second),
    weekday: SHORT_DAYS.indexOf(parts.weekday ?? ''),
  };
}

/** Offset of `timeZone` from UTC at `instantMs`, in ms (local = utc + offset). */
function offsetAt(instantMs: number, timeZone: string): number {
  const p = localParts(instantMs, timeZone);
  const asUtc = Date.UTC(p.year, p.month - 1, p.day, p.hour, p.minute, p.second);
  return asUtc - Math.floor(instantMs / 1000) * 1000;
}

/**
 * The first instant of local day (year, month, day) in `timeZone`: local midnight, or where
 * midnight does not exist (a DST jump at 00:00) the instant the day begins. Tries the UTC offsets
 * in force on either side of the day and keeps the earliest candidate that falls on that day.
 */
export function startOfLocalDay(year: number, month: number, day: number, timeZone: string): number {
  const wall = Date.UTC(year, month - 1, day);
  const candidates = [
    wall - offsetAt(wall - 14 * 3600_000, timeZone),
    wall - offsetAt(wall + 14 * 3600_000, timeZone),
  ];
  const onDay = candidates.filter((c) => {
    const p = localParts(c, timeZone);
    return p.year === year && p.month === month && p.day === day;
  });
  if (!onDay.length) throw new Error(`cannot find the start of ${year}-${month}-${day} in ${timeZone}`);
  return Math.min(...onDay);
}

export const SPENDING_INTERVALS = ['per_authorization', 'daily', 'weekly', 'monthly', 'all_time'] as const;
export type SpendingInterval = (typeof SPENDING_INTERVALS)[number];

/**
 * Start of the window containing `nowMs` for a windowed interval; null for `all_time` and
 * `per_authorization` (which have no window).
 */
export function windowStart(
  nowMs: number,
  interval: SpendingInterval,
  timeZone: string,
  weekStartsOn: Weekday = 'monday',
): number | null {
  if (interval === 'all_time' || interval === 'per_authorization') return null;
  const p = localParts(nowMs, timeZone);
  if (interval === 'daily') return startOfLocalDay(p.year, p.month, p.day, timeZone);
  if (interval === 'monthly') return startOfLocalDay(p.year, p.month, 1, timeZone);
  const back = (p.weekday - WEEKDAYS.indexOf(weekStartsOn) + 7) % 7;
  const d = new Date(Date.UTC(p.year, p.month - 1, p.day - back));
  return startOfLocalDay(d.getUTCFullYear(), d.getUTCMonth() + 1, d.getUTCDate(), timeZone);
}
