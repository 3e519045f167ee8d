/**
 * Which way a policy change moves the program's controls, field by field. A **loosening** change
 * lets more money out, or lets it out with less scrutiny (a region added, a cap raised or removed,
 * a blocked category unblocked, the stand-in set to approve, a deadline moved either way …): it
 * needs a second principal (maker-checker). A **tightening** one applies at once. Where a change's
 * direction is not certain (a time zone moves every window's boundary) it counts as loosening.
 * `partner` is **neutral**: it picks where new cards are issued and moves no control.
 * Pure; every field of the policy has a rule (the table's type requires it).
 */
import type { SpendingLimit } from './controls';
import type { ProgramPolicy } from './policy';

export type ChangeDirection = 'tightening' | 'loosening' | 'neutral';

export interface FieldChange {
  field: keyof ProgramPolicy;
  direction: ChangeDirection;
  /** Why, in words an approver reads. */
  reason: string;
}

type Rule<K extends keyof ProgramPolicy> = (
  before: ProgramPolicy[K],
  after: ProgramPolicy[K],
) => { direction: ChangeDirection; reason: string };

const loosening = (reason: string) => ({ direction: 'loosening' as const, reason });
const tightening = (reason: string) => ({ direction: 'tightening' as const, reason });

/** A cap where null means none at all: raising or removing it loosens. */
function cap(name: string): Rule<'weeklyCardLimitPerUser' | 'weeklySpendLimitPerUser'> {
  return (before, after) => {
    if (after === null) return loosening(`${name} removed`);
    if (before === null) return tightening(`${name} set to ${after}`);
    return after > before
      ? loosening(`${name} raised from ${before} to ${after}`)
      : tightening(`${name} lowered from ${before} to ${after}`);
  };
}

function amount(name: string): Rule<'maxCardSpendLimit' | 'overrideApprovalThreshold'> {
  return (before, after) =>
    after > before
      ? loosening(`${name} raised from ${before} to ${after}`)
      : tightening(`${name} lowered from ${before} to ${after}`);
}

const added = (before: readonly string[], after: readonly string[]): string[] =>
  after.filter((x) => !before.includes(x));

/**
 * Default limits tighten only when every interval limited before is still limited, no higher,
 * with the same categories; anything else (a limit dropped, raised, or scoped differently) loosens.
 */
function defaultLimits(before: SpendingLimit[], after: SpendingLimit[]) {
  const key = (l: SpendingLimit) =>
    `${l.interval}|${JSON.stringify((l as { mccs?: string[] }).mccs ?? null)}`;
  const next = new Map<string, number>();
  for (const l of after) next.set(key(l), Math.min(next.get(key(l)) ?? Infinity, l.amount));
  for (const l of before) {
    const now = next.get(key(l));
    if (now === undefined)
      return loosening(`default ${l.interval} limit of ${l.amount} dropped or re-scoped`);
    if (now > l.amount) return loosening(`default ${l.interval} limit raised from ${l.amount} to ${now}`);
  }
  return tightening('default limits kept or lowered');
}

const RULES: { [K in keyof Required<ProgramPolicy>]: Rule<K> } = {
  timeZone: (b, a) => loosening(`time zone moved from ${b} to ${a}: every window's boundary moves`),
  weekStartsOn: (b, a) => loosening(`week start moved from ${b} to ${a}: weekly windows move`),
  regions: (b, a) => {
    const more = added(b, a);
    return more.length
      ? loosening(`regions added: ${more.join(', ')}`)
      : tightening(`regions removed: ${added(a, b).join(', ')}`);
  },
  defaultCurrency: (b, a) => loosening(`default currency changed from ${b} to ${a}`),
  maxCardSpendLimit: amount('the largest card limit'),
  defaultSpendingLimits: defaultLimits,
  weeklyCardLimitPerUser: cap('the weekly card cap per user'),
  weeklySpendLimitPerUser: cap('the weekly spend cap per user'),
  blockedMccs: (b, a) => {
    const unblocked = added(a, b);
    return unblocked.length
      ? loosening(`categories unblocked: ${unblocked.join(', ')}`)
      : tightening(`categories blocked: ${added(b, a).join(', ')}`);
  },
  overrideApprovalThreshold: amount('the approval threshold'),
  authorizationTimeoutMs: (b, a) =>
    loosening(
      a < b
        ? `authorization deadline shortened from ${b} to ${a} ms: more purchases answered by the stand-in`
        : `authorization deadline lengthened from ${b} to ${a} ms: the partner may decide in our place`,
    ),
  standInDecision: (b, a) =>
    a === 'approve'
      ? loosening('the stand-in approves when the card cannot answer')
      : tightening(`stand-in ${b} → ${a}`),
  holdExpiryDays: (b, a) =>
    loosening(`holds lapse after ${a} days instead of ${b}: money is held or released on another schedule`),
  partner: (b, a) => ({
    direction: 'neutral',
    reason: `new cards issued at ${a} instead of ${b ?? 'the default'}`,
  }),
};

const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/** One entry per field the patch really changes (fields set to their current value are not changes). */
export function classifyPolicyChange(before: ProgramPolicy, patch: Partial<ProgramPolicy>): FieldChange[] {
  const out: FieldChange[] = [];
  for (const field of Object.keys(patch) as Array<keyof ProgramPolicy>) {
    if (!(field in RULES) || patch[field] === undefined || same(before[field], patch[field])) continue;
    const rule = RULES[field] as Rule<typeof field>;
    out.push({ field, ...rule(before[field] as never, patch[field] as never) });
  }
  return out;
}

/** The changes that need a second principal. */
export const loosenings = (changes: FieldChange[]): FieldChange[] =>
  changes.filter((c) => c.direction === 'loosening');

/** Every field the classification covers (the table test walks them all). */
export const CLASSIFIED_FIELDS = Object.keys(RULES) as Array<keyof ProgramPolicy>;
