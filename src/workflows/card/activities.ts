/**
 * The card workflow's activities, each placed once: the database's run as local activities, the
 * partner's as regular ones.
 *
 * Local: they run in the worker that runs the workflow task, so a partner event or an
 * authorization costs one workflow task instead of a round trip through the server's activity
 * queue (the authorization deadline and the webhook throughput both need that). They are
 * idempotent and retried until the database answers, never failing the workflow.
 *
 * Remote: a partner call may take seconds and gives up after a few attempts; the caller decides
 * what a failure means.
 */
import { proxyActivities, proxyLocalActivities } from '@temporalio/workflow';
import type { CardActivities } from '../../activities/card-activities';

const local = proxyLocalActivities<CardActivities>({
  startToCloseTimeout: '10 seconds',
  localRetryThreshold: '10 seconds',
  retry: { initialInterval: '200 milliseconds', backoffCoefficient: 2, maximumInterval: '10 seconds' },
});

const remote = proxyActivities<CardActivities>({
  startToCloseTimeout: '10 seconds',
  retry: {
    initialInterval: '200 milliseconds',
    backoffCoefficient: 2,
    maximumInterval: '2 seconds',
    maximumAttempts: 5,
  },
});

export const db = {
  reserveIssuance: local.reserveIssuance,
  recordTransition: local.recordTransition,
  updateCardControls: local.updateCardControls,
  updateCardExpiry: local.updateCardExpiry,
  recordActionDecision: local.recordActionDecision,
  recordMoneyEvent: local.recordMoneyEvent,
  projectMoneyEvents: local.projectMoneyEvents,
  recordOutcome: local.recordOutcome,
  loadProgram: local.loadProgram,
  reserveUserSpend: local.reserveUserSpend,
  claimParkedEvents: local.claimParkedEvents,
};

export const partner = {
  createAtPartner: remote.createAtPartner,
  syncPartnerStatus: remote.syncPartnerStatus,
};

// Every activity is placed, once: a new one fails to compile until it is given a place here.
type Unplaced = Exclude<keyof CardActivities, keyof typeof db | keyof typeof partner>;
type PlacedTwice = keyof typeof db & keyof typeof partner;
const _everyActivityPlacedOnce: [Unplaced, PlacedTwice] extends [never, never] ? true : never = true;
