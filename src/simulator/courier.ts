/**
 * The sandbox partner's webhook courier with chaos: delivers signed events the way a real partner
 * does (at least once, retried until a 2xx) and, on request, badly: late, out of order, twice, or
 * with the first attempt lost in transit (the partner retries it, as partners do).
 */
import crypto from 'node:crypto';
import { signStandardWebhook } from '../partners/sandbox/signature';
import type { SandboxEvent } from '../partners/sandbox/deliver';
import type { Rng } from './rng';

export interface ChaosOptions {
  /** Share of events delivered more than once (1–2 extra deliveries, same event id). */
  duplicates: number;
  /** Share of events held back until after the card's next event (delivered out of order). */
  reorder: number;
  /** Share of events whose first delivery is lost in transit (the partner retries later). */
  drops: number;
  /** Share of events delivered late, by up to `maxDelayMs`. */
  delays: number;
  maxDelayMs: number;
  /** Share of partner-side changes made silently: booked by the partner, never sent (drift). */
  silent: number;
}

export const NO_CHAOS: ChaosOptions = {
  duplicates: 0,
  reorder: 0,
  drops: 0,
  delays: 0,
  maxDelayMs: 0,
  silent: 0,
};

export interface CourierStats {
  events: number;
  attempts: number;
  acknowledged: number;
  duplicatesSent: number;
  dropped: number;
  delayed: number;
  reordered: number;
  retriesAfterError: number;
  /** Deliveries the platform refused with a 4xx (never expected). */
  refused: Array<{ eventId: string; status: number; body: string }>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export class Courier {
  readonly stats: CourierStats = {
    events: 0,
    attempts: 0,
    acknowledged: 0,
    duplicatesSent: 0,
    dropped: 0,
    delayed: 0,
    reordered: 0,
    retriesAfterError: 0,
    refused: [],
  };
  private readonly inflight = new Set<Promise<void>>();
  /** Per card: an event held back until the card's next event has been sent. */
  private readonly heldBack = new Map<string, SandboxEvent>();

  constructor(
    private readonly target: { url: string; secret: string },
    private readonly chaos: ChaosOptions,
    private readonly rng: Rng,
  ) {}

  /** Queues an event for delivery (returns at once). */
  send(cardKey: string, event: SandboxEvent): void {
    this.stats.events++;
    const held = this.heldBack.get(cardKey);
    this.heldBack.delete(cardKey);
    if (!held && this.rng.chance(this.chaos.reorder)) {
      this.stats.reordered++;
      this.heldBack.set(cardKey, event);
      return;
    }
    this.track(this.deliver(event));
    // The held-back event goes out after this one: the platform sees them in the wrong order.
    if (held) this.track(sleep(20).then(() => this.deliver(held)));
  }

  /** Sends whatever is still held back, then waits until every event has been acknowledged. */
  async drain(): Promise<void> {
    for (const [key, ev] of this.heldBack) {
      this.heldBack.delete(key);
      this.track(this.deliver(ev));
    }
    while (this.inflight.size) await Promise.all([...this.inflight]);
  }

  get pending(): number {
    return this.inflight.size + this.heldBack.size;
  }

  private track(p: Promise<void>): void {
    const t = p.finally(() => this.inflight.delete(t));
    this.inflight.add(t);
  }

  private async deliver(event: SandboxEvent): Promise<void> {
    if (this.rng.chance(this.chaos.delays)) {
      this.stats.delayed++;
      await sleep(this.rng.int(1, Math.max(1, this.chaos.maxDelayMs)));
    }
    const copies = this.rng.chance(this.chaos.duplicates) ? this.rng.int(1, 2) : 0;
    this.stats.duplicatesSent += copies;
    const raw = JSON.stringify(event);
    const first = this.attempt(event, raw, this.rng.chance(this.chaos.drops));
    const extra = Array.from({ length: copies }, (_, i) =>
      sleep(this.rng.int(0, 300) * (i + 1)).then(() => this.attempt(event, raw, false)),
    );
    await Promise.all([first, ...extra]);
  }

  /** One delivery of an event, retried (fresh signature each time) until the platform acknowledges it. */
  private async attempt(event: SandboxEvent, raw: string, dropFirst: boolean): Promise<void> {
    const msgId = `msg_${crypto.randomBytes(8).toString('hex')}`;
    for (let n = 0; ; n++) {
      if (n === 0 && dropFirst) {
        // Lost in transit: the platform never sees it; the partner's timeout fires and it retries.
        this.stats.dropped++;
        await sleep(this.rng.int(200, 1500));
        continue;
      }
      this.stats.attempts++;
      try {
        const res = await fetch(this.target.url, {
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            ...signStandardWebhook(this.target.secret, msgId, raw),
          },
          body: raw,
        });
        const body = await res.text();
        if (res.ok) {
          this.stats.acknowledged++;
          return;
        }
        if (res.status !== 429 && res.status < 500) {
          this.stats.refused.push({ eventId: event.id, status: res.status, body: body.slice(0, 300) });
          return;
        }
      } catch {
        // connection refused or reset: retried below
      }
      this.stats.retriesAfterError++;
      if (n > 12) {
        this.stats.refused.push({ eventId: event.id, status: 0, body: 'gave up after 12 retries' });
        return;
      }
      await sleep(Math.min(10_000, 200 * 2 ** n));
    }
  }
}
