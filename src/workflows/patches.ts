/**
 * Every workflow patch, in one place (the rule: docs/patches.md). Workflow code changes its
 * commands only behind a patch named here, added with its date and the condition for removing it;
 * no other module calls `patched()` or `deprecatePatch()` (src/workflows/patches.test.ts checks).
 *
 * Empty: nothing has been released (0.1.0), so no history recorded under older code must replay.
 * The pre-release patches (local-db-activities, user-weekly-spend, authorization-lifecycle,
 * authorize-from-books, program-by-version, claim-parked-events, status-watermark) were folded
 * into the code when the card workflow became an entity.
 */
import { deprecatePatch, patched } from '@temporalio/workflow';

export interface Patch {
  /** The day the patch went in (YYYY-MM-DD). */
  added: string;
  /**
   * `patched`: the code branches on it (old histories take the old path).
   * `deprecated`: every history from before the patch is gone; the new code runs unconditionally
   * and only marks the patch, so histories recorded under `patched` still replay.
   */
  stage: 'patched' | 'deprecated';
  /** Since when it is deprecated (YYYY-MM-DD). */
  deprecatedOn?: string;
  /** What must be true before the next stage: which histories are gone, checked how. */
  removeWhen: string;
}

export const PATCHES = {
  // 'card-example-change': {
  //   added: '2027-01-15',
  //   stage: 'patched',
  //   removeWhen: 'no open card run started before the release carrying it (30 days of retention)',
  // },
} as const satisfies Record<string, Patch>;

type Patches = typeof PATCHES;
export type PatchName = keyof Patches;
/** Patches the code still branches on. */
export type ActivePatch = { [K in PatchName]: Patches[K]['stage'] extends 'patched' ? K : never }[PatchName];
/** Patches whose old branch is gone. */
export type DeprecatedPatch = Exclude<PatchName, ActivePatch>;

/** True when this run takes the patched path (new runs, and histories recorded with the patch). */
export function isPatched(name: ActivePatch): boolean {
  return patched(name);
}

/** Marks a deprecated patch: histories recorded under it replay; the old path no longer exists. */
export function markDeprecated(name: DeprecatedPatch): void {
  deprecatePatch(name);
}
