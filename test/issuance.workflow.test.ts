/**
 * Issuance idempotency at the workflow, below the HTTP idempotency middleware: the `issue`
 * update's fixed update id and update-with-start's `USE_EXISTING` conflict policy are what make a
 * retried or concurrent issuance one card. These tests reach the card workflow through the
 * Temporal client directly, so changing the update id, the conflict policy or the workflow's own
 * "already issued" guard fails them even though the middleware would hide it over HTTP.
 */
import type { temporal } from '@temporalio/proto';
import { cardWorkflowId } from '../src/domain/ids';
import { newId } from '../src/lib/ids';
import { cardStartOptions, issueThroughWorkflow, type CardWorkflowConfig } from '../src/temporal/card-client';
import { getCardQuery, issueUpdate, type IssueCardInput } from '../src/workflows/messages';
import { useHarness } from './helpers/harness';
import { eventually } from './helpers/wait';
import { newTenant, newUser, type TestTenant } from './helpers/fixtures';

const h = useHarness();
let tenant: TestTenant;
let cards: CardWorkflowConfig;

beforeAll(async () => {
  tenant = await newTenant(h);
  cards = { taskQueue: h.taskQueue };
});

async function issueInput(): Promise<IssueCardInput> {
  const user = await newUser(h, tenant);
  return {
    tenantId: tenant.id,
    cardId: newId('card'),
    userId: user.id,
    currency: 'USD',
    controls: { spendingLimits: [{ amount: 20_000, interval: 'all_time' }] },
    issuedBy: { type: 'app', id: 'test' },
    requestHash: 'hash-1',
  };
}

type HistoryEvent = temporal.api.history.v1.IHistoryEvent;

/** The `issue` updates the run accepted, and the partner calls it scheduled. */
function countIn(events: HistoryEvent[]) {
  return {
    issueAccepted: events.filter(
      (e) => e.workflowExecutionUpdateAcceptedEventAttributes?.acceptedRequest?.input?.name === 'issue',
    ).length,
    issueCompleted: events.filter((e) => e.workflowExecutionUpdateCompletedEventAttributes).length,
    createAtPartner: events.filter(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'createAtPartner',
    ).length,
  };
}

/** What the card left in the database: its row, its partner card, its vault entry, its transitions. */
async function rowsFor(input: IssueCardInput) {
  const count = async (q: Promise<{ count: string | number }[]>) => Number((await q)[0].count);
  return {
    cards: await count(h.knex('cards').where({ userId: input.userId }).count('* as count')),
    partnerCards: await count(
      h.knex('sandbox.cards').where({ platformCardRef: input.cardId }).count('* as count'),
    ),
    vaultEntries: await count(h.knex('vault_entries').where({ cardId: input.cardId }).count('* as count')),
    transitions: (await h.knex('card_events').where({ cardId: input.cardId }).orderBy('id')).map(
      (e: { fromStatus: string | null; toStatus: string }) => [e.fromStatus, e.toStatus],
    ),
  };
}

const ONE_CARD = {
  cards: 1,
  partnerCards: 1,
  vaultEntries: 1,
  transitions: [
    [null, 'pending'],
    ['pending', 'active'],
  ],
};

describe('issuance idempotency at the card workflow', () => {
  it('two update-with-start calls for one card id reach one run and one `issue` update: one card, one partner card', async () => {
    const input = await issueInput();
    const workflowId = cardWorkflowId(tenant.id, input.cardId);

    await issueThroughWorkflow(h.temporal, cards, input);
    const firstRun = (await h.temporal.workflow.getHandle(workflowId).describe()).runId;
    await issueThroughWorkflow(h.temporal, cards, input);

    // Same run (not terminated and restarted, not refused as already started) ...
    const latest = await h.temporal.workflow.getHandle(workflowId).describe();
    expect(latest.runId).toBe(firstRun);
    expect(latest.status.name).toBe('RUNNING');
    // ... which accepted the `issue` update once and called the partner once.
    const history = await h.temporal.workflow.getHandle(workflowId, firstRun).fetchHistory();
    expect(countIn(history.events ?? [])).toEqual({
      issueAccepted: 1,
      issueCompleted: 1,
      createAtPartner: 1,
    });
    expect(await rowsFor(input)).toEqual(ONE_CARD);
  });

  it('concurrent update-with-start calls for one card id give one card', async () => {
    const input = await issueInput();
    const workflowId = cardWorkflowId(tenant.id, input.cardId);

    await Promise.all(Array.from({ length: 4 }, () => issueThroughWorkflow(h.temporal, cards, input)));

    const handle = h.temporal.workflow.getHandle(workflowId);
    const desc = await handle.describe();
    expect(desc.status.name).toBe('RUNNING');
    const history = await h.temporal.workflow.getHandle(workflowId, desc.runId).fetchHistory();
    // The first event of the run is its start: no earlier run was terminated for a later call.
    expect(history.events?.[0]?.workflowExecutionStartedEventAttributes?.originalExecutionRunId).toBe(
      desc.runId,
    );
    expect(countIn(history.events ?? [])).toEqual({
      issueAccepted: 1,
      issueCompleted: 1,
      createAtPartner: 1,
    });
    expect(await rowsFor(input)).toEqual(ONE_CARD);
  });

  it('a retried update-with-start after the card continued as new reaches the new run, which keeps its card', async () => {
    const input = await issueInput();
    const workflowId = cardWorkflowId(tenant.id, input.cardId);
    // A short run: the card continues as new once issued, so the next run has never seen the
    // `issue` update id and only the conflict policy decides what a retry does.
    const shortRuns: CardWorkflowConfig = { ...cards, maxHistoryEvents: 10 };
    await issueThroughWorkflow(h.temporal, shortRuns, input);
    const handle = h.temporal.workflow.getHandle(workflowId);
    await eventually(async () => (await handle.query(getCardQuery)).runsSoFar >= 1);
    const started = async (runId?: string) =>
      (await h.temporal.workflow.getHandle(workflowId, runId).fetchHistory()).events?.[0]
        ?.workflowExecutionStartedEventAttributes;
    const firstRun = (await started())?.firstExecutionRunId;
    expect(firstRun).toBeTruthy();

    await issueThroughWorkflow(h.temporal, shortRuns, input);

    // Walk the runs back from the latest: each was continued into the next, back to the first run
    // (a run the retry terminated, or a fresh start, breaks the chain).
    const latest = await handle.describe();
    expect(latest.status.name).toBe('RUNNING');
    expect((await started(latest.runId))?.firstExecutionRunId).toBe(firstRun);
    let runId: string | undefined = latest.runId;
    for (;;) {
      const previous: string | null | undefined = (await started(runId))?.continuedExecutionRunId;
      if (!previous) break;
      expect((await h.temporal.workflow.getHandle(workflowId, previous).describe()).status.name).toBe(
        'CONTINUED_AS_NEW',
      );
      runId = previous;
    }
    expect(runId).toBe(firstRun);
    // The state carried across runs is the card's, issued once.
    expect((await handle.query(getCardQuery)).runsSoFar).toBeGreaterThanOrEqual(1);
    expect(await handle.query(getCardQuery)).toMatchObject({ cardId: input.cardId, status: 'active' });
    expect(await rowsFor(input)).toEqual(ONE_CARD);
  });

  it('two `issue` updates with the same update id on a started card run the handler once and answer alike', async () => {
    const input = await issueInput();
    const handle = await h.temporal.workflow.start('cardWorkflow', {
      ...cardStartOptions(cards, tenant.id, input.cardId),
    });

    const results = await Promise.all([
      handle.executeUpdate(issueUpdate, { args: [input], updateId: 'issue' }),
      handle.executeUpdate(issueUpdate, { args: [input], updateId: 'issue' }),
    ]);
    // After completion, the same id again gets the stored outcome.
    results.push(await handle.executeUpdate(issueUpdate, { args: [input], updateId: 'issue' }));

    expect(results).toEqual([
      { cardId: input.cardId, status: 'active' },
      { cardId: input.cardId, status: 'active' },
      { cardId: input.cardId, status: 'active' },
    ]);
    const history = await handle.fetchHistory();
    expect(countIn(history.events ?? [])).toEqual({
      issueAccepted: 1,
      issueCompleted: 1,
      createAtPartner: 1,
    });
    expect(await rowsFor(input)).toEqual(ONE_CARD);
  });

  it('an `issue` update under another id on an issued card gets the card as it is, issuing nothing more', async () => {
    const input = await issueInput();
    await issueThroughWorkflow(h.temporal, cards, input);
    const handle = h.temporal.workflow.getHandle(cardWorkflowId(tenant.id, input.cardId));

    const again = await handle.executeUpdate(issueUpdate, { args: [input], updateId: 'issue-retry' });

    expect(again).toEqual({ cardId: input.cardId, status: 'active' });
    const history = await handle.fetchHistory();
    // Two updates accepted, but the partner called once and the card transitioned once.
    expect(countIn(history.events ?? [])).toEqual({
      issueAccepted: 2,
      issueCompleted: 2,
      createAtPartner: 1,
    });
    expect(await rowsFor(input)).toEqual(ONE_CARD);
  });
});
