import fs from 'node:fs';
import path from 'node:path';
import { projectRoot } from '../src/infra/paths';
import { startHarness, type Harness } from './helpers/harness';
import { issueCard, newTenant, newUser, type TestTenant } from './helpers/fixtures';

let h: Harness;
let tenant: TestTenant;

beforeAll(async () => {
  h = await startHarness();
  tenant = await newTenant(h);
});
afterAll(() => h.stop());

/** Files under `dir` whose bytes contain `needle`. Returns paths only, never the needle. */
function filesContaining(dir: string, needle: Buffer): string[] {
  const hits: string[] = [];
  const walk = (d: string): void => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.isFile()) {
        try {
          if (fs.readFileSync(p).includes(needle)) hits.push(p);
        } catch {
          // files that vanish or are unreadable mid-scan (sockets, temp files)
        }
      }
    }
  };
  walk(dir);
  return hits;
}

describe('card number reveal', () => {
  it('reveals the number to the app, audits it, and the number is found nowhere under .data', async () => {
    const user = await newUser(h, tenant);
    const card = (await issueCard(h, tenant, user.id)).body;
    const res = await h.request('POST', `/v1/cards/${card.id}/reveal`, { key: tenant.appKey });
    expect(res.status).toBe(200);
    expect(res.headers.get('cache-control')).toBe('no-store');
    const { number, cvc, expMonth, expYear } = res.body as {
      number: string;
      cvc: string;
      expMonth: number;
      expYear: number;
    };
    expect(/^[0-9]{16}$/.test(number)).toBe(true);
    expect(/^[0-9]{3}$/.test(cvc)).toBe(true);
    expect(number.endsWith(card.last4)).toBe(true);
    expect({ expMonth, expYear }).toEqual({ expMonth: card.expMonth, expYear: card.expYear });

    const audits = await h.knex('audit_events').where({ subjectId: card.id, action: 'card.reveal' });
    expect(audits).toHaveLength(1);
    expect(audits[0]).toMatchObject({ tenantId: tenant.id, actorType: 'app' });

    // Push everything to disk: PostgreSQL's buffers (data files and WAL) and Temporal's SQLite.
    await h.knex.raw('CHECKPOINT');
    await new Promise((r) => setTimeout(r, 1500));
    const hits = filesContaining(path.join(projectRoot, '.data'), Buffer.from(number, 'ascii'));
    // Paths only in the failure message: the number never reaches test output.
    expect(hits).toEqual([]);
    // The scan is real: the last four digits are on disk (cards.last4), so a search can find digits.
    expect(
      filesContaining(path.join(projectRoot, '.data', 'test', 'postgres'), Buffer.from(`sbc_`)).length,
    ).toBeGreaterThan(0);
  });

  it('refuses to reveal a canceled card and another tenant’s card', async () => {
    const user = await newUser(h, tenant);
    const card = (await issueCard(h, tenant, user.id)).body;
    const other = await newTenant(h);
    const foreign = await h.request('POST', `/v1/cards/${card.id}/reveal`, { key: other.appKey });
    expect(foreign.status).toBe(404);
    expect(await h.request('POST', `/v1/cards/${card.id}/cancel`, { key: tenant.appKey })).toMatchObject({
      status: 200,
    });
    const res = await h.request('POST', `/v1/cards/${card.id}/reveal`, { key: tenant.appKey });
    expect(res.status).toBe(409);
    expect(res.body.error.code).toBe('CARD_NOT_REVEALABLE');
  });

  it('is not available to operator keys on the app route', async () => {
    const user = await newUser(h, tenant);
    const card = (await issueCard(h, tenant, user.id)).body;
    const res = await h.request('POST', `/v1/cards/${card.id}/reveal`, { key: tenant.operatorKey });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe('FORBIDDEN');
  });
});
