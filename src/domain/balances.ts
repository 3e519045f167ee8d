import type { SpendingLimit } from './controls';
import type { SpendingInterval } from './time-windows';

/** Spend counted against a window: captured − refunded + held (never below zero). */
export interface WindowUsage {
  held: number;
  captured: number;
  refunded: number;
}

export function spentIn(u: WindowUsage): number {
  return Math.max(0, u.captured - u.refunded + u.held);
}

/**
 * available = limit − captured − held + refunded, per interval, floored at 0. A per-authorization
 * limit has no window: its "available" is the limit itself.
 */
export function availableByInterval(
  limits: readonly SpendingLimit[],
  usageFor: (interval: SpendingInterval) => WindowUsage,
): Partial<Record<SpendingInterval, number>> {
  const out: Partial<Record<SpendingInterval, number>> = {};
  for (const l of limits) {
    out[l.interval] =
      l.interval === 'per_authorization' ? l.amount : Math.max(0, l.amount - spentIn(usageFor(l.interval)));
  }
  return out;
}
