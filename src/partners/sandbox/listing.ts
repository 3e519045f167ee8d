import crypto from 'node:crypto';
import type { Vault } from '../../vault/vault';
import type { PartnerCardRecord, PartnerPage, PartnerTransactionRecord } from '../adapter';

/** The largest page the sandbox's listings serve (its own API; real partners allow 100–1,000). */
export const SANDBOX_MAX_PAGE = 5000;

/**
 * The sandbox partner's API key for one program, as a real partner hands the platform a key per
 * account: `sbk.<programId>.<mac>`. Derived from the vault key, so the API (which checks it) and
 * the worker (which uses it) both know it without storing it.
 */
export function sandboxProgramKey(vault: Vault, programId: string): string {
  return `sbk.${programId}.${vault.deriveSecret(`sandbox-program-key\u0000${programId}`).slice(0, 40)}`;
}

/** The program a sandbox key belongs to, or null when the key is not a valid sandbox key. */
export function programOfSandboxKey(vault: Vault, key: string): string | null {
  const m = /^sbk\.([A-Za-z0-9_-]{1,100})\.([0-9a-f]{40})$/.exec(key);
  if (!m) return null;
  const expected = Buffer.from(sandboxProgramKey(vault, m[1]!));
  const given = Buffer.from(key);
  return expected.length === given.length && crypto.timingSafeEqual(expected, given) ? m[1]! : null;
}

interface SandboxCardRow {
  id: string;
  status: PartnerCardRecord['status'];
  updatedAt: string;
}
interface SandboxTransactionRow {
  id: string;
  cardId: string;
  transactionId: string;
  type: PartnerTransactionRecord['type'];
  amount: number | string;
  currency: string;
  approved: boolean | null;
  eventId: string | null;
  occurredAt: string;
}

/**
 * Reads the sandbox partner's books through its HTTP listings (`/sandbox/v1/cards`,
 * `/sandbox/v1/transactions`), page by page, exactly as an adapter for a real partner reads its
 * list endpoints. Retries a failed page a few times (the caller's activity retries beyond that).
 */
export class SandboxListing {
  constructor(
    private readonly vault: Vault,
    /** The platform's base URL, where the sandbox is mounted (resolved per call: tests listen late). */
    private readonly baseUrl: () => string,
  ) {}

  private async get<T>(programId: string, path: string): Promise<T> {
    for (let attempt = 0; ; attempt++) {
      try {
        const res = await fetch(`${this.baseUrl()}${path}`, {
          headers: { authorization: `Bearer ${sandboxProgramKey(this.vault, programId)}` },
          signal: AbortSignal.timeout(30_000),
        });
        if (res.ok) return (await res.json()) as T;
        const text = (await res.text()).slice(0, 300);
        if (res.status < 500 && res.status !== 429)
          throw Object.assign(new Error(`sandbox ${path} → ${res.status} ${text}`), { permanent: true });
        throw new Error(`sandbox ${path} → ${res.status} ${text}`);
      } catch (err) {
        if ((err as { permanent?: boolean }).permanent || attempt >= 3) throw err;
        await new Promise((r) => setTimeout(r, 200 * 2 ** attempt));
      }
    }
  }

  async listCards(input: {
    programId: string;
    cursor: string | null;
    limit: number;
  }): Promise<PartnerPage<PartnerCardRecord>> {
    const q = new URLSearchParams({ limit: String(Math.min(input.limit, SANDBOX_MAX_PAGE)) });
    if (input.cursor) q.set('cursor', input.cursor);
    const page = await this.get<PartnerPage<SandboxCardRow>>(input.programId, `/sandbox/v1/cards?${q}`);
    return {
      data: page.data.map((c) => ({ partnerCardId: c.id, status: c.status, updatedAt: c.updatedAt })),
      nextCursor: page.nextCursor,
    };
  }

  async listTransactions(input: {
    programId: string;
    from: Date;
    to: Date;
    cursor: string | null;
    limit: number;
  }): Promise<PartnerPage<PartnerTransactionRecord>> {
    const q = new URLSearchParams({
      limit: String(Math.min(input.limit, SANDBOX_MAX_PAGE)),
      from: input.from.toISOString(),
      to: input.to.toISOString(),
    });
    if (input.cursor) q.set('cursor', input.cursor);
    const page = await this.get<PartnerPage<SandboxTransactionRow>>(
      input.programId,
      `/sandbox/v1/transactions?${q}`,
    );
    return {
      data: page.data.map((t) => ({
        recordId: t.id,
        partnerCardId: t.cardId,
        partnerTransactionId: t.transactionId,
        type: t.type,
        amount: Number(t.amount),
        currency: t.currency,
        approved: t.approved,
        eventId: t.eventId ?? null,
        occurredAt: t.occurredAt,
      })),
      nextCursor: page.nextCursor,
    };
  }
}
