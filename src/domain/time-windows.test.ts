import { localParts, startOfLocalDay, windowStart } from './time-windows';

const iso = (ms: number | null): string | null => (ms === null ? null : new Date(ms).toISOString());

describe('calendar windows in the program time zone', () => {
  it('starts the week at local midnight on weekStartsOn, one second either side of the boundary', () => {
    // Monday 2026-11-23 00:00 in New York is 05:00Z (EST, UTC−5).
    const boundary = Date.parse('2026-11-23T05:00:00Z');
    expect(iso(windowStart(boundary, 'weekly', 'America/New_York', 'monday'))).toBe(
      '2026-11-23T05:00:00.000Z',
    );
    expect(iso(windowStart(boundary + 1000, 'weekly', 'America/New_York', 'monday'))).toBe(
      '2026-11-23T05:00:00.000Z',
    );
    expect(iso(windowStart(boundary - 1000, 'weekly', 'America/New_York', 'monday'))).toBe(
      '2026-11-16T05:00:00.000Z',
    );
  });

  it('is DST-safe: the week containing the spring-forward change starts at local midnight before it', () => {
    // US DST starts Sunday 2026-03-08 02:00 local. Week starting Monday 2026-03-02 00:00 EST = 05:00Z;
    // the next week starts Monday 2026-03-09 00:00 EDT = 04:00Z.
    expect(iso(windowStart(Date.parse('2026-03-08T12:00:00Z'), 'weekly', 'America/New_York', 'monday'))).toBe(
      '2026-03-02T05:00:00.000Z',
    );
    const nextWeek = Date.parse('2026-03-09T04:00:00Z');
    expect(iso(windowStart(nextWeek, 'weekly', 'America/New_York', 'monday'))).toBe(
      '2026-03-09T04:00:00.000Z',
    );
    expect(iso(windowStart(nextWeek - 1000, 'weekly', 'America/New_York', 'monday'))).toBe(
      '2026-03-02T05:00:00.000Z',
    );
    // A Sunday-start week that begins on the change day itself.
    expect(iso(windowStart(Date.parse('2026-03-08T20:00:00Z'), 'weekly', 'America/New_York', 'sunday'))).toBe(
      '2026-03-08T05:00:00.000Z',
    );
  });

  it('is DST-safe in autumn and in the southern hemisphere', () => {
    // Europe/Berlin falls back Sunday 2026-10-25 03:00 → 02:00. Monday 2026-10-26 00:00 CET = 25T23:00Z.
    expect(iso(windowStart(Date.parse('2026-10-26T10:00:00Z'), 'weekly', 'Europe/Berlin', 'monday'))).toBe(
      '2026-10-25T23:00:00.000Z',
    );
    expect(iso(windowStart(Date.parse('2026-10-25T10:00:00Z'), 'weekly', 'Europe/Berlin', 'monday'))).toBe(
      '2026-10-18T22:00:00.000Z',
    );
    // Australia/Sydney leaves DST on Sunday 2026-04-05 03:00 → 02:00: that day began at 00:00 AEDT
    // (UTC+11, 04T13:00Z); the next begins at 00:00 AEST (UTC+10, 05T14:00Z).
    expect(iso(windowStart(Date.parse('2026-04-05T12:00:00Z'), 'daily', 'Australia/Sydney'))).toBe(
      '2026-04-04T13:00:00.000Z',
    );
    expect(iso(windowStart(Date.parse('2026-04-05T14:00:00Z'), 'daily', 'Australia/Sydney'))).toBe(
      '2026-04-05T14:00:00.000Z',
    );
    expect(iso(windowStart(Date.parse('2026-04-05T13:59:59Z'), 'daily', 'Australia/Sydney'))).toBe(
      '2026-04-04T13:00:00.000Z',
    );
  });

  it('handles a day whose midnight does not exist', () => {
    // America/Santiago springs forward at 24:00 → 01:00 on 2026-09-06: the day starts at 01:00 local (−03).
    const start = startOfLocalDay(2026, 9, 6, 'America/Santiago');
    expect(localParts(start, 'America/Santiago')).toMatchObject({ day: 6, hour: 1, minute: 0 });
    expect(localParts(start - 1000, 'America/Santiago')).toMatchObject({ day: 5, hour: 23 });
  });

  it('computes daily and monthly windows and none for all_time / per_authorization', () => {
    const t = Date.parse('2026-11-25T03:30:00Z'); // 2026-11-24 22:30 in New York
    expect(iso(windowStart(t, 'daily', 'America/New_York'))).toBe('2026-11-24T05:00:00.000Z');
    expect(iso(windowStart(t, 'monthly', 'America/New_York'))).toBe('2026-11-01T04:00:00.000Z'); // Nov 1 was still EDT
    expect(iso(windowStart(t, 'daily', 'UTC'))).toBe('2026-11-25T00:00:00.000Z');
    expect(windowStart(t, 'all_time', 'UTC')).toBeNull();
    expect(windowStart(t, 'per_authorization', 'UTC')).toBeNull();
  });
});
