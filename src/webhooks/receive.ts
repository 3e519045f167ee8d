import type { FormattedAnswer } from '../partners/adapter';
import { authorizeWithDeadline } from './authorize';
import { ingestDelivery, type IngestRequest, type WebhookDeps } from './ingest';
import { credentialsOf } from './subscriptions';

/** Where a delivery's time went (ms): storing it, and for a request the decision (the card's answer, the API's write). */
export interface ReceiveTiming {
  ingest?: number;
  decide?: number;
  card?: number;
  write?: number;
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
  const ingested = await ingestDelivery(deps, req);
  const t1 = performance.now();
  timing.ingest = t1 - t0;
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
  const formatted = sync.adapter.formatAnswer(answer, {
    event: sync.event,
    deliveryId: sync.deliveryId,
    delivery: sync.delivery,
    credentials: credentialsOf(deps.vault, sync.subscription),
  });
  timing.decide = performance.now() - t1;
  return formatted;
}
