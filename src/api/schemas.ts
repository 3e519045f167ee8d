import { z } from 'zod';
import { CURRENCY_PATTERN, MAX_AMOUNT } from '../domain/money';
import { REGION_PATTERN } from '../domain/regions';
import { SPENDING_INTERVALS, WEEKDAYS, isValidTimeZone } from '../domain/time-windows';

/** Shared field schemas: money is a non-negative integer of minor units up to MAX_AMOUNT, never a float. */
export const MinorUnits = z.number().int().nonnegative().max(MAX_AMOUNT);
export const PositiveMinorUnits = z.number().int().positive().max(MAX_AMOUNT);
export const Currency = z.string().regex(CURRENCY_PATTERN, 'an ISO 4217 code such as "USD"');
export const Region = z
  .string()
  .regex(REGION_PATTERN, 'an ISO 3166-1 alpha-2 ("US") or ISO 3166-2 ("US-CA") code');
export const Mcc = z.string().regex(/^[0-9]{4}$/, 'a four-digit merchant category code');
export const IsoDateTime = z.iso.datetime({ offset: true });

export const SpendingLimitSchema = z.strictObject({
  amount: PositiveMinorUnits,
  interval: z.enum(SPENDING_INTERVALS),
});

/**
 * A set of spending limits: one per interval, and at least one that accumulates (daily, weekly,
 * monthly or all_time): a card with only a per-authorization limit could be used without end.
 */
export const SpendingLimitsSchema = z
  .array(SpendingLimitSchema)
  .min(1)
  .max(10)
  .refine((ls) => new Set(ls.map((l) => l.interval)).size === ls.length, 'one limit per interval')
  .refine(
    (ls) => ls.some((l) => l.interval !== 'per_authorization'),
    'at least one daily, weekly, monthly or all_time limit',
  );

export const ControlsSchema = z.strictObject({
  spendingLimits: SpendingLimitsSchema.optional(),
  allowedRegions: z.array(Region).min(1).max(100).optional(),
  blockedMccs: z.array(Mcc).max(500).optional(),
  allowedMccs: z.array(Mcc).max(500).optional(),
  maxAuthorizations: z.number().int().positive().max(1_000_000).nullable().optional(),
});

export const PolicySchema = z.strictObject({
  timeZone: z.string().refine(isValidTimeZone, 'an IANA time zone such as "America/New_York"'),
  weekStartsOn: z.enum(WEEKDAYS),
  regions: z.array(Region).min(1).max(300),
  defaultCurrency: Currency,
  maxCardSpendLimit: PositiveMinorUnits,
  defaultSpendingLimits: SpendingLimitsSchema,
  weeklyCardLimitPerUser: z.number().int().nonnegative().nullable(),
  weeklySpendLimitPerUser: MinorUnits.nullable(),
  blockedMccs: z.array(Mcc).max(500),
  overrideApprovalThreshold: MinorUnits,
  authorizationTimeoutMs: z.number().int().min(100).max(10_000),
  standInDecision: z.enum(['decline', 'approve']),
  holdExpiryDays: z.number().int().min(1).max(90),
  /** Where new cards are issued: a registered partner's name (checked against the registry). */
  partner: z.string().regex(/^[a-z][a-z0-9-]{1,30}$/, 'a partner name'),
});

export const PartialPolicySchema = PolicySchema.partial();

export const PaginationSchema = z.object({
  limit: z.coerce.number().int().min(1).max(200).default(50),
  cursor: z.string().max(500).optional(),
});

/** Opaque list cursor: the (createdAt, id) of the last row returned. */
export function encodeCursor(createdAt: Date, id: string): string {
  return encodeCursorParts(createdAt, id);
}

export function decodeCursor(cursor: string): { createdAt: Date; id: string } | null {
  const parts = decodeCursorParts(cursor, 1);
  return parts ? { createdAt: parts[0], id: parts[1][0]! } : null;
}

/** A cursor's time exactly as `toISOString` writes it for the years PostgreSQL and people use. */
const CURSOR_TIME = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}\.[0-9]{3}Z$/;
/** A cursor's keys are ids and kinds the API wrote: plain ASCII tokens, never NUL or SQL text. */
const CURSOR_TOKEN = /^[A-Za-z0-9_.:-]{1,128}$/;

/** A cursor of a time and `keys` string keys, base64url JSON: what list routes hand out. */
export function encodeCursorParts(at: Date, ...keys: string[]): string {
  return Buffer.from(JSON.stringify([at.toISOString(), ...keys])).toString('base64url');
}

/**
 * Decodes a cursor of a time and `keys` keys, or null for anything the API did not write: not
 * base64url JSON, not an array of exactly that length, a time outside 0000–9999 or not in
 * canonical form (a year of −271821 is a valid JS date no database column holds), a key that is
 * missing, not a string, or not a plain token (a NUL cannot reach SQL).
 */
export function decodeCursorParts(cursor: string, keys: number): [Date, string[]] | null {
  if (!/^[A-Za-z0-9_-]{1,500}$/.test(cursor)) return null;
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    return null;
  }
  if (!Array.isArray(value) || value.length !== keys + 1) return null;
  const [at, ...rest] = value as unknown[];
  if (typeof at !== 'string' || !CURSOR_TIME.test(at)) return null;
  const createdAt = new Date(at);
  if (Number.isNaN(createdAt.getTime()) || createdAt.toISOString() !== at) return null;
  if (!rest.every((k): k is string => typeof k === 'string' && CURSOR_TOKEN.test(k))) return null;
  return [createdAt, rest];
}
