import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { luhnCheckDigit, isLuhnValid } from '../src/domain/luhn';
import { newId } from '../src/lib/ids';
import { projectRoot } from '../src/infra/paths';
import { eventually } from './helpers/wait';
import { useHarness } from './helpers/harness';
import { issueCard, newTenant, newUser, type TestTenant } from './helpers/fixtures';

const h = useHarness();
let tenant: TestTenant;

beforeAll(async () => {
  tenant = await newTenant(h);
});

/**
 * Files under `dir` whose bytes contain `needle`, and how many files were read. Returns paths
 * only, never the needle. A file or directory that cannot be read fails the scan (a scan that
 * skips what it cannot read proves nothing about it); only one that vanished mid-scan (a
 * temporary file) is passed over, and sockets or pipes hold no bytes at rest.
 */
function filesContaining(dir: string, needle: Buffer): { hits: string[]; scanned: number } {
  const hits: string[] = [];
  let scanned = 0;
  const vanished = (err: unknown) => (err as NodeJS.ErrnoException).code === 'ENOENT';
  const walk = (d: string): void => {
    let entries: fs.Dirent[];
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch (err) {
      if (vanished(err)) return;
      throw new Error(`cannot scan ${d}: ${(err as Error).message}`, { cause: err });
    }
    for (const entry of entries) {
      const p = path.join(d, entry.name);
      if (entry.isDirectory()) walk(p);
      else if (entry.isSocket() || entry.isFIFO()) continue;
      else {
        let bytes: Buffer;
        try {
          // A symbolic link is read through (its target may be where the bytes are).
          if (entry.isSymbolicLink() && fs.statSync(p).isDirectory()) {
            walk(p);
            continue;
          }
          bytes = fs.readFileSync(p);
        } catch (err) {
          if (vanished(err)) continue;
          throw new Error(`cannot scan ${p}: ${(err as Error).message}`, { cause: err });
        }
        scanned++;
        if (bytes.includes(needle)) hits.push(p);
      }
    }
  };
  walk(dir);
  return { hits, scanned };
}

/** A Luhn-valid 16-digit number no card has (random past a test prefix), as the scan's control. */
function plantedNumber(): string {
  const payload = `400000${String(crypto.randomInt(1e9)).padStart(9, '0')}`;
  return payload + String(luhnCheckDigit(payload));
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

    // The scan's control: a Luhn-valid number planted after the reveal in PostgreSQL (a table of
    // this test's) and in Temporal's store (a workflow's input), where a leak would be. Once the
    // scan finds both on disk, everything written before them is on disk too.
    const planted = plantedNumber();
    expect(isLuhnValid(planted)).toBe(true);
    const table = `scan_control_${newId('card').slice(5)}`;
    await h.knex.schema.createTable(table, (t) => t.text('value'));
    await h.knex(table).insert({ value: planted });
    const control = await h.temporal.workflow.start('scanControl', {
      workflowId: `scan-control-${table}`,
      taskQueue: `scan-control-${table}`,
      args: [planted],
    });
    await control.terminate('scan control');
    await h.knex.raw('CHECKPOINT');
    const dataDir = path.join(projectRoot, '.data');
    const plantedBytes = Buffer.from(planted, 'ascii');
    await eventually(async () => {
      const { hits } = filesContaining(dataDir, plantedBytes);
      const under = (sub: string) =>
        hits.some((p) => p.startsWith(path.join(dataDir, 'test', sub) + path.sep));
      return under('postgres') && under('temporal');
    });
    await h.knex.schema.dropTable(table);

    // Paths only in the failure message: the number never reaches test output.
    const scan = filesContaining(dataDir, Buffer.from(number, 'ascii'));
    expect(scan.hits).toEqual([]);
    expect(scan.scanned).toBeGreaterThan(10);
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
