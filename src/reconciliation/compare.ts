/**
 * The comparison: set-based SQL over the staged partner listings and our own books, in one
 * database transaction. Nothing is loaded into Node; only the counts (and the few discrepancies
 * worth healing) come back.
 *
 * Transactions are matched by the partner's transaction id. A transaction belongs to the window in
 * which it began (the earlier of the partner's first record and our first sight of it); its
 * records up to the run's cutoff are compared in full. Each drifting transaction or card gets at
 * most one discrepancy, of the first category that applies:
 *
 * | category | when |
 * | --- | --- |
 * | missing_internal_transaction | the partner has records, we have no transaction |
 * | missing_partner_transaction | we have a transaction, the partner has no record of it |
 * | currency_mismatch | the currencies differ |
 * | duplicate_capture | the partner settled the same amount twice and more than it authorized |
 * | stale_hold | a hold that one side expired is still held on the other |
 * | amount_mismatch | authorized, captured, refunded or held amounts differ |
 * | orphan_partner_card | the partner has a card of this program that we do not |
 * | card_status_mismatch | the card's status differs (our expired and pending cards excepted) |
 *
 * A transaction or card that changed on either side within `settleMs` of the cutoff is left to
 * the next run (its webhook may still be on its way), and its open discrepancy stays open.
 */
import type { Knex } from 'knex';
import type { DiscrepancyCategory, HealableDiscrepancy } from '../domain/reconciliation';
import { insertDecisionsSql } from '../admin-actions/decisions';
import { insertActionsSql } from '../admin-actions/requests';
import { stageTables } from './stage';

export interface CompareInput {
  runId: string;
  tenantId: string;
  partner: string;
  fromMs: number;
  toMs: number;
  cutoffMs: number;
  settleMs: number;
}

export interface CompareResult {
  counts: Partial<Record<DiscrepancyCategory, number>>;
  compared: { transactions: number; cards: number };
  /** New discrepancies, and open ones seen again. */
  opened: number;
  stillOpen: number;
  /** Open discrepancies of the window that no longer hold. */
  closed: number;
  /** Drift found again that an operator had accepted or called a false positive (not reopened). */
  acknowledged: number;
}

export async function compareRun(knex: Knex, input: CompareInput): Promise<CompareResult> {
  const st = stageTables(input.runId);
  const from = new Date(input.fromMs);
  const to = new Date(input.toMs);
  const settleAt = new Date(input.cutoffMs - input.settleMs);
  const { tenantId: t, partner: p, runId: run } = input;
  const x = { from, to };

  return knex.transaction(async (trx) => {
    // One comparison per tenant and partner at a time: two runs must not open the same drift twice
    // or close each other's findings.
    await trx.raw(`SELECT pg_advisory_xact_lock(hashtext(?))`, [`reconcile:${t}:${p}`]);
    await trx.raw(`SET LOCAL work_mem = '128MB'`);

    // The partner's side, one row per transaction.
    await trx.raw(
      `CREATE TEMP TABLE rec_partner ON COMMIT DROP AS
       SELECT r.partner_transaction_id AS ptx, min(r.partner_card_id) AS pcard,
              min(r.occurred_at) AS first_at, max(r.occurred_at) AS last_at,
              coalesce(sum(r.amount) FILTER (WHERE r.type = 'authorization' AND r.approved IS TRUE), 0)::bigint AS authorized,
              coalesce(sum(r.amount) FILTER (WHERE r.type = 'clearing'), 0)::bigint AS captured,
              coalesce(sum(r.amount) FILTER (WHERE r.type = 'refund'), 0)::bigint AS refunded,
              coalesce(sum(r.amount) FILTER (WHERE r.type = 'reversal'), 0)::bigint AS reversed,
              bool_or(r.type = 'expiry') AS expired,
              bool_or(r.type = 'clearing') AS cleared,
              coalesce(bool_or(r.type = 'authorization' AND r.approved IS TRUE), false) AS approved,
              count(*) FILTER (WHERE r.type = 'clearing') AS clearings,
              min(r.currency) AS currency, max(r.currency) AS currency_max, count(*) AS records
         FROM :records: r GROUP BY r.partner_transaction_id`,
      { records: st.records },
    );
    // Settlements of the same amount twice on one transaction.
    await trx.raw(
      `CREATE TEMP TABLE rec_dup ON COMMIT DROP AS
       SELECT DISTINCT partner_transaction_id AS ptx FROM :records: WHERE type = 'clearing'
        GROUP BY partner_transaction_id, amount HAVING count(*) > 1`,
      { records: st.records },
    );

    // Both sides side by side, with the category of the first rule that applies (null: they agree).
    await trx.raw(
      `CREATE TEMP TABLE rec_joined ON COMMIT DROP AS
       WITH i AS (
         SELECT x.id, x.card_id, c.partner_card_id AS pcard, x.partner_transaction_id AS ptx, x.currency::text AS currency,
                x.status, CASE WHEN x.decline_code = 'STAND_IN' THEN 0 ELSE x.authorized_amount END AS authorized,
                x.captured_amount AS captured, x.refunded_amount AS refunded, x.reversed_amount AS reversed,
                x.held_amount AS held, x.created_at, x.updated_at
           FROM transactions x JOIN cards c ON c.tenant_id = x.tenant_id AND c.id = x.card_id
          WHERE x.tenant_id = :t AND x.partner = :p
       ), j AS (
         SELECT coalesce(rp.ptx, i.ptx) AS ptx, coalesce(rp.pcard, i.pcard) AS pcard, i.id AS txn_id,
                -- A transaction we never saw still belongs to our card (its timeline shows the drift).
                coalesce(i.card_id, (SELECT c.id FROM cards c
                                      WHERE c.tenant_id = :t AND c.partner = :p AND c.partner_card_id = rp.pcard)) AS card_id,
                least(rp.first_at, i.created_at) AS subject_at,
                rp.ptx IS NOT NULL AS has_p, i.id IS NOT NULL AS has_i,
                (coalesce(rp.last_at, '-infinity') >= :settle OR coalesce(i.updated_at, '-infinity') >= :settle) AS unsettled,
                i.currency AS i_currency, i.status AS i_status, i.authorized AS i_authorized, i.captured AS i_captured,
                i.refunded AS i_refunded, i.reversed AS i_reversed, i.held AS i_held,
                rp.currency AS p_currency, rp.currency_max AS p_currency_max, rp.authorized AS p_authorized,
                rp.captured AS p_captured, rp.refunded AS p_refunded, rp.reversed AS p_reversed,
                rp.expired AS p_expired, rp.cleared AS p_cleared, rp.clearings AS p_clearings, rp.records AS p_records,
                CASE WHEN rp.cleared OR rp.expired OR NOT rp.approved THEN 0 ELSE greatest(0, rp.authorized - rp.reversed) END AS p_held,
                rp.last_at AS p_last_at, d.ptx IS NOT NULL AS p_dup
           FROM rec_partner rp
           FULL JOIN i ON i.ptx = rp.ptx
           LEFT JOIN rec_dup d ON d.ptx = rp.ptx
       )
       SELECT j.*,
              CASE
                WHEN NOT has_i THEN 'missing_internal_transaction'
                WHEN NOT has_p THEN 'missing_partner_transaction'
                WHEN p_currency <> i_currency OR p_currency <> p_currency_max THEN 'currency_mismatch'
                WHEN p_dup AND p_captured > p_authorized THEN 'duplicate_capture'
                WHEN (p_expired AND NOT p_cleared AND i_held > 0) OR (i_status = 'expired' AND p_held > 0) THEN 'stale_hold'
                WHEN i_authorized <> p_authorized OR i_captured <> p_captured OR i_refunded <> p_refunded OR i_held <> p_held
                  THEN 'amount_mismatch'
              END AS category
         FROM j
        WHERE subject_at >= :from AND subject_at < :to`,
      { t, p, settle: settleAt, from, to },
    );

    // Cards: every partner card of the program against ours (not windowed).
    await trx.raw(
      `CREATE TEMP TABLE rec_cards ON COMMIT DROP AS
       SELECT s.partner_card_id AS pcard, s.status AS p_status, s.updated_at AS p_updated_at,
              c.id AS card_id, c.status AS i_status, c.status_changed_at AS i_changed_at,
              (s.updated_at >= :settle OR coalesce(c.status_changed_at, '-infinity') >= :settle) AS unsettled,
              CASE
                WHEN c.id IS NULL THEN 'orphan_partner_card'
                WHEN c.status IN ('active', 'frozen', 'canceled') AND c.status <> s.status THEN 'card_status_mismatch'
              END AS category
         FROM :cards: s
         LEFT JOIN cards c ON c.tenant_id = :t AND c.partner = :p AND c.partner_card_id = s.partner_card_id`,
      { t, p, settle: settleAt, cards: st.cards },
    );

    // What was compared, and what must not be judged yet.
    const [{ transactions, cards }] = (
      await trx.raw(
        `SELECT (SELECT count(*) FROM rec_joined WHERE NOT unsettled)::int AS transactions,
                (SELECT count(*) FROM rec_cards WHERE NOT unsettled)::int AS cards`,
      )
    ).rows;
    await trx.raw(
      `CREATE TEMP TABLE rec_unsettled ON COMMIT DROP AS
       SELECT ptx AS key FROM rec_joined WHERE unsettled UNION SELECT pcard FROM rec_cards WHERE unsettled`,
    );

    // The findings, with both sides' values and the evidence on each side.
    await trx.raw(
      `CREATE TEMP TABLE rec_found ON COMMIT DROP AS
       SELECT category, category || ':' || ptx AS fingerprint, card_id, txn_id, pcard, ptx, subject_at,
              CASE WHEN has_i THEN jsonb_build_object('currency', i_currency, 'status', i_status, 'authorized', i_authorized,
                     'captured', i_captured, 'refunded', i_refunded, 'reversed', i_reversed, 'held', i_held,
                     'expired', i_status = 'expired') END AS internal_value,
              CASE WHEN has_p THEN jsonb_build_object('currency', p_currency, 'authorized', p_authorized, 'captured', p_captured,
                     'refunded', p_refunded, 'reversed', p_reversed, 'held', p_held, 'expired', p_expired,
                     'clearings', p_clearings, 'records', p_records,
                     'lastAtMs', (extract(epoch FROM p_last_at) * 1000)::bigint) END AS partner_value
         FROM rec_joined WHERE category IS NOT NULL AND NOT unsettled
       UNION ALL
       SELECT category, category || ':' || pcard, card_id, NULL, pcard, NULL, NULL,
              CASE WHEN card_id IS NOT NULL THEN jsonb_build_object('status', i_status, 'statusChangedAt', i_changed_at) END,
              jsonb_build_object('status', p_status, 'updatedAt', p_updated_at)
         FROM rec_cards WHERE category IS NOT NULL AND NOT unsettled`,
    );
    // Drift an operator accepted (or called a false positive) stays resolved while it is the same
    // drift: same subject, same figures on both sides. Changed figures are new drift.
    const acknowledged = await trx.raw(
      `DELETE FROM rec_found f USING discrepancies a
        WHERE a.tenant_id = :t AND a.partner = :p AND a.fingerprint = f.fingerprint AND a.status = 'resolved'
          AND a.resolution IN ('accepted', 'false_positive')
          AND a.internal_value IS NOT DISTINCT FROM f.internal_value AND a.partner_value IS NOT DISTINCT FROM f.partner_value`,
      { t, p },
    );
    const counts = Object.fromEntries(
      (
        await trx.raw(
          `SELECT category, count(*)::int AS n FROM rec_found GROUP BY category ORDER BY category`,
        )
      ).rows.map((r: { category: string; n: number }) => [r.category, r.n]),
    ) as CompareResult['counts'];

    const upserted = await trx.raw(
      `WITH ev_partner AS (
         SELECT r.partner_transaction_id AS ptx,
                jsonb_agg(jsonb_build_object('id', r.record_id, 'type', r.type, 'amount', r.amount, 'currency', r.currency,
                          'approved', r.approved, 'eventId', r.event_id, 'occurredAt', r.occurred_at)
                          ORDER BY r.occurred_at, r.record_id) AS records
           FROM :records: r WHERE r.partner_transaction_id IN (SELECT ptx FROM rec_found WHERE ptx IS NOT NULL)
          GROUP BY 1
       ), ev_ours AS (
         SELECT e.transaction_id AS txn_id,
                jsonb_agg(jsonb_build_object('id', e.id, 'type', e.type, 'amount', e.amount, 'currency', e.currency,
                          'source', e.source, 'deliveryId', e.delivery_id, 'eventKey', e.event_key,
                          'occurredAt', e.occurred_at) ORDER BY e.id) AS events,
                array_remove(array_agg(DISTINCT e.delivery_id), NULL) AS deliveries
           FROM transaction_events e
          WHERE e.tenant_id = :t AND e.transaction_id IN (SELECT txn_id FROM rec_found WHERE txn_id IS NOT NULL)
          GROUP BY 1
       ), ev_card AS (
         SELECT ce.card_id,
                jsonb_agg(jsonb_build_object('id', ce.id, 'from', ce.from_status, 'to', ce.to_status, 'cause', ce.cause,
                          'actor', ce.actor_type || ':' || ce.actor_id, 'occurredAt', ce.occurred_at) ORDER BY ce.id) AS events
           FROM card_events ce
          WHERE ce.tenant_id = :t AND ce.card_id IN (SELECT card_id FROM rec_found WHERE ptx IS NULL AND card_id IS NOT NULL)
          GROUP BY 1
       ), ev_status AS (
         SELECT o.card_id, array_agg(DISTINCT o.delivery_id) AS deliveries
           FROM webhook_outcomes o
          WHERE o.tenant_id = :t AND o.event_type = 'card.status'
            AND o.card_id IN (SELECT card_id FROM rec_found WHERE ptx IS NULL AND card_id IS NOT NULL)
          GROUP BY 1
       ), up AS (
         INSERT INTO discrepancies AS d (id, tenant_id, run_id, last_seen_run_id, partner, category, fingerprint, card_id,
                transaction_id, partner_card_id, partner_transaction_id, internal_value, partner_value, evidence, subject_at)
         SELECT 'dsc_' || substr(md5(:run || f.fingerprint), 1, 26), :t, :run, :run, :p, f.category, f.fingerprint, f.card_id,
                f.txn_id, f.pcard, f.ptx, f.internal_value, f.partner_value,
                CASE WHEN f.ptx IS NOT NULL THEN jsonb_build_object(
                       'partnerRecords', coalesce(ep.records, '[]'::jsonb),
                       'transactionEvents', coalesce(eo.events, '[]'::jsonb),
                       'deliveryIds', to_jsonb(coalesce(eo.deliveries, '{}'::text[])))
                     ELSE jsonb_build_object(
                       'partnerCard', f.partner_value,
                       'cardEvents', coalesce(ec.events, '[]'::jsonb),
                       'deliveryIds', to_jsonb(coalesce(es.deliveries, '{}'::text[])))
                END,
                f.subject_at
           FROM rec_found f
           LEFT JOIN ev_partner ep ON ep.ptx = f.ptx
           LEFT JOIN ev_ours eo ON eo.txn_id = f.txn_id
           LEFT JOIN ev_card ec ON f.ptx IS NULL AND ec.card_id = f.card_id
           LEFT JOIN ev_status es ON f.ptx IS NULL AND es.card_id = f.card_id
         ON CONFLICT (tenant_id, partner, fingerprint) WHERE status = 'open'
         DO UPDATE SET last_seen_run_id = EXCLUDED.last_seen_run_id, card_id = EXCLUDED.card_id,
                       transaction_id = EXCLUDED.transaction_id, internal_value = EXCLUDED.internal_value,
                       partner_value = EXCLUDED.partner_value, evidence = EXCLUDED.evidence,
                       subject_at = EXCLUDED.subject_at, updated_at = now()
         RETURNING (xmax = 0) AS inserted
       )
       SELECT count(*) FILTER (WHERE inserted)::int AS opened, count(*) FILTER (WHERE NOT inserted)::int AS "stillOpen" FROM up`,
      { t, p, run, records: st.records },
    );
    const { opened, stillOpen } = upserted.rows[0] as { opened: number; stillOpen: number };

    // Open discrepancies this run looked at again and did not find: the drift is gone (a late
    // webhook, an operator's fix). Closed under audit, as the platform's own resolution.
    const closedRes = await trx.raw(
      `WITH closed AS (
         UPDATE discrepancies d
            SET status = 'resolved', resolution = 'auto_healed', resolved_by = 'system:reconciliation',
                resolution_note = 'no longer found by reconciliation run ' || :run, resolved_at = now(), updated_at = now()
          WHERE d.tenant_id = :t AND d.partner = :p AND d.status = 'open' AND d.last_seen_run_id <> :run
            AND (d.subject_at IS NULL OR (d.subject_at >= :from AND d.subject_at < :to))
            AND NOT EXISTS (SELECT 1 FROM rec_unsettled u WHERE u.key = coalesce(d.partner_transaction_id, d.partner_card_id))
          RETURNING d.id, d.category
       ), acts AS (${insertActionsSql(
         `SELECT 'act_' || substr(md5('close' || c.id || :run), 1, 26), :t::text, 'discrepancy', c.id,
                 'resolve_discrepancy',
                 jsonb_build_object('resolution', 'auto_healed', 'runId', :run::text, 'category', c.category),
                 'no longer found by reconciliation run ' || :run, 'system:reconciliation'
            FROM closed c`,
       )}), decided AS (${insertDecisionsSql(
         `SELECT :t::text, a.id, 'applied', 'system:reconciliation', 'discrepancy closed' FROM acts a`,
       )})
       SELECT count(*)::int AS closed FROM closed`,
      { t, p, run, from: x.from, to: x.to },
    );
    return {
      counts,
      compared: { transactions, cards },
      opened,
      stillOpen,
      closed: closedRes.rows[0].closed as number,
      acknowledged: acknowledged.rowCount ?? 0,
    };
  });
}

/** Open discrepancies this run found that may be healed (at most `limit`). */
export async function healCandidates(
  knex: Knex,
  input: { tenantId: string; partner: string; runId: string; limit: number },
): Promise<Array<HealableDiscrepancy & { cardId: string | null }>> {
  const rows = await knex('discrepancies')
    .where({ tenantId: input.tenantId, partner: input.partner, lastSeenRunId: input.runId, status: 'open' })
    .whereIn('category', ['card_status_mismatch', 'stale_hold', 'amount_mismatch'])
    .whereNotNull('partnerCardId')
    .orderBy('id')
    .limit(input.limit)
    .select(
      'id',
      'category',
      'partner',
      'cardId',
      'partnerCardId',
      'partnerTransactionId',
      'internalValue',
      'partnerValue',
      'evidence',
    );
  return rows as Array<HealableDiscrepancy & { cardId: string | null }>;
}
