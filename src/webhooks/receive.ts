import { hasPartner, type FormattedAnswer } from '../partners/adapter';
import { apiMetrics, declineLabel } from '../lib/metrics';
import { authorizeWithDeadline } from './authorize';
import { ingestDelivery, type IngestRequest, type WebhookDeps } from './ingest';
import { credentialsOf } from './subscriptions';

/** Where a delivery's time went (ms): storing it, and for a request the decision (the card's answer, the API's write). */
export interface ReceiveTiming {
  ingest?: number;
  decide?: number;
  card?: number;
  write?: number;
  /** The program's stand-in answered (the card did not in time). */
  standIn?: boolean;
}

/** A delivery's outcome as a metrics label, from the answer ingestion gave. */
export function deliveryOutcome(r: { status: number; body: Record<string, unknown> }): string {
  if (r.status >= 500) return 'error';
  if (r.status === 401) return 'rejected';
  if (r.status === 404) return 'unknown_subscription';
  if (r.status >= 400) return 'unparseable';
  if (r.body.ignored) return 'ignored';
  if (r.body.duplicate) return 'duplicate';
  return 'accepted';
}

/**
 * Receives one partner delivery — from the partner, or an operator's replay of a stored one:
 * ingests it (stored, verified, normalized, deduped, queued) and, when it is an authorization
 * request, has the card decide within the program's deadline. The answer is in the partner's own
 * shape (its adapter formats it); an operator's replay gets the same answer, acted on by no one.
 */
export async function receiveDelivery(
  deps: WebhookDeps,
  req: IngestRequest,
  timing: ReceiveTiming = {},
): Promise<FormattedAnswer> {
  const t0 = performance.now();
  // Partner names from the URL are counted only when they are registered partners.
  const partner = hasPartner(deps.partners, req.partner) ? req.partner : 'unknown';
  const counted = !req.replayOf;
  let ingested: Awaited<ReturnType<typeof ingestDelivery>>;
  try {
    ingested = await ingestDelivery(deps, req);
  } catch (err) {
    if (counted) apiMetrics.webhookDeliveries.inc({ partner, outcome: 'error' });
    throw err;
  }
  const t1 = performance.now();
  timing.ingest = t1 - t0;
  if (counted) apiMetrics.webhookDeliveries.inc({ partner, outcome: deliveryOutcome(ingested) });
  const sync = ingested.sync;
  if (!sync)
    return {
      status: ingested.status,
      body: ingested.body,
      ...(ingested.headers ? { headers: ingested.headers } : {}),
    };
  const answer = await authorizeWithDeadline(
    deps,
    {
      tenantId: sync.tenantId,
      deliveryId: sync.deliveryId,
      event: sync.event,
      cardId: sync.cardId,
      fresh: sync.fresh,
      ...(sync.adapter.answerDeadlineMs ? { partnerDeadlineMs: sync.adapter.answerDeadlineMs } : {}),
      ...(req.replayOf ? { replay: true } : { receivedAtMs: req.receivedAtMs }),
    },
    timing,
  );
  if (counted) {
    const result = timing.standIn ? 'stand_in' : answer.approved ? 'approved' : 'declined';
    apiMetrics.authorizations.inc({ result, decline_code: declineLabel(answer.declineCode) });
    apiMetrics.authorizationDuration.observe({ result }, (performance.now() - t1) / 1000);
  }
  const formatted = sync.adapter.formatAnswer(answer, {
    event: sync.event,
    deliveryId: sync.deliveryId,
    delivery: sync.delivery,
    credentials: credentialsOf(deps.vault, sync.subscription),
  });
  timing.decide = performance.now() - t1;
  return formatted;
}
