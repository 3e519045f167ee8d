/**
 * The operators' console in a real browser against the real stack: an operator (and two approvers)
 * walk every page as a person would, by the accessible names the console promises. Screenshots of
 * each page go to .data/test/screenshots/; one axe-core pass checks every page for serious or
 * critical accessibility violations.
 */
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import { startHarness, type Harness } from './helpers/harness';
import { issueCard, newTenant, newUser, uniq, type TestTenant } from './helpers/fixtures';
import { eventually } from './helpers/wait';
import { merchant, sendEvent } from './helpers/webhooks';
import { launchBrowser, type TestBrowser } from './helpers/browser';
import { testDataDir } from './setup/stack-file';
import { createApiKey } from '../src/tenants/api-keys';
import { projectRoot } from '../src/infra/paths';
import { CONSOLE_CSP } from '../src/api/console/router';

jest.setTimeout(180_000);

const consoleDir = path.join(projectRoot, 'console');
const shotsDir = path.join(testDataDir, 'screenshots');

/** The newest modification time under a folder (the console's sources). */
function newest(dir: string): number {
  let t = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    t = Math.max(t, e.isDirectory() ? newest(p) : fs.statSync(p).mtimeMs);
  }
  return t;
}

/** Builds the console when its build is missing or older than its sources: the test reads what it tests. */
function ensureConsoleBuilt(): void {
  const index = path.join(consoleDir, 'dist', 'index.html');
  const sources = Math.max(
    newest(path.join(consoleDir, 'src')),
    ...['index.html', 'vite.config.ts'].map((f) => fs.statSync(path.join(consoleDir, f)).mtimeMs),
  );
  if (fs.existsSync(index) && fs.statSync(index).mtimeMs >= sources) return;
  execFileSync(
    process.execPath,
    [path.join(projectRoot, 'node_modules', 'vite', 'bin', 'vite.js'), 'build', 'console'],
    {
      cwd: projectRoot,
      stdio: 'pipe',
      timeout: 120_000,
    },
  );
}

let h: Harness;
let b: TestBrowser;
let page: Page;
let t: TestTenant;
let card: { id: string; last4: string; partnerCardId: string };
let number: string;
let secondApproverKey: string;
const problems: string[] = [];
const axeViolations: Array<{ page: string; id: string; impact: string; nodes: string[] }> = [];
const timings: Record<string, number> = {};

async function shot(name: string, opts: { fullPage?: boolean } = {}): Promise<void> {
  await page.screenshot({ path: path.join(shotsDir, `${name}.png`), fullPage: opts.fullPage ?? true });
  // Whatever page this is: no card number on it, and no serious accessibility problem.
  expect(await page.content()).not.toContain(number);
  await axe(name);
}

const axeSource = fs.readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');
async function axe(name: string): Promise<void> {
  // Evaluated through the DevTools protocol, which the page's CSP does not govern (a <script>
  // tag would be refused, as it should be).
  if (!(await page.evaluate("typeof window.axe === 'object'"))) await page.evaluate(axeSource);
  // The page's own types are the browser's: the script runs there, as text.
  const violations = (await page.evaluate(`window.axe
    .run(document, { resultTypes: ['violations'] })
    .then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, nodes: v.nodes.map((n) => n.target.join(' ')) })))`)) as Array<{
    id: string;
    impact: string;
    nodes: string[];
  }>;
  for (const v of violations) axeViolations.push({ page: name, ...v });
}

const nav = (name: string) => page.getByRole('navigation', { name: 'Console' }).getByRole('link', { name });
const dialog = () => page.getByRole('dialog');

async function signIn(key: string): Promise<void> {
  await page.goto(`${h.baseUrl}/console`);
  await page.getByLabel('API key').fill(key);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await visible(nav('Cards'));
}

async function signOut(): Promise<void> {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByLabel('API key').waitFor();
}

type Locator = ReturnType<Page['locator']>;
/** Waits for what a person would wait for: the element shown, gone, or saying something. */
const visible = (l: Locator, timeout = 15_000) => l.first().waitFor({ state: 'visible', timeout });
const hidden = (l: Locator, timeout = 15_000) => l.first().waitFor({ state: 'hidden', timeout });
async function hasText(l: Locator, re: RegExp, timeout = 15_000): Promise<void> {
  try {
    await eventually(
      async () =>
        re.test(
          (
            (await l
              .first()
              .textContent({ timeout: 1_000 })
              .catch(() => '')) ?? ''
          ).replace(/\s+/g, ' '),
        ),
      timeout,
      100,
    );
  } catch {
    throw new Error(
      `expected ${String(l)} to match ${re}; it says: ${await l
        .first()
        .textContent()
        .catch(() => '(not there)')}`,
    );
  }
}

/**
 * The partner books a transaction and delivers its webhook, signed, as a card network would (an
 * authorization asks the platform first): the partner's books and ours agree, so reconciliation
 * later finds only the drift made on purpose.
 */
async function atPartner(body: Record<string, unknown>) {
  const res = await h.request('POST', '/sandbox/v1/transactions', {
    key: t.operatorKey,
    body: { currency: 'USD', merchant, ...body },
  });
  expect(res.status).toBe(201);
  expect(res.body.delivery.deliveries[0].status).toBe(200);
  return res.body as { transactionId: string; approved: boolean | null };
}

beforeAll(async () => {
  let at = Date.now();
  ensureConsoleBuilt();
  timings.build = Date.now() - at;
  fs.mkdirSync(shotsDir, { recursive: true });
  h = await startHarness();
  t = await newTenant(h, { authorizationTimeoutMs: 10_000 });
  const user = await newUser(h, t);
  const issued = await issueCard(h, t, user.id, {
    controls: {
      spendingLimits: [
        { amount: 50_000, interval: 'all_time' },
        { amount: 20_000, interval: 'weekly' },
        { amount: 5_000, interval: 'per_authorization' },
      ],
    },
  });
  expect(issued.status).toBe(201);
  card = issued.body;
  number = (await h.request('POST', `/v1/cards/${card.id}/reveal`, { key: t.appKey })).body.number;
  expect(number).toMatch(/^[0-9]{12,19}$/);
  secondApproverKey = (await createApiKey(h.knex, t.id, 'approver', 'second approver')).key;
  at = Date.now();
  b = await launchBrowser();
  timings.browserLaunch = Date.now() - at;
  page = await b.context.newPage();
  page.on('console', (m) => {
    const text = m.text();
    // A refused request is logged by the browser as a failed resource; the page shows it itself.
    if (m.type() === 'error' && !/^Failed to load resource/.test(text)) problems.push(text);
  });
  page.on('pageerror', (e) => problems.push(String(e)));
});

afterAll(async () => {
  await b?.close();
  await h?.stop();
  console.log(
    `console browser test: ${b?.version ?? '?'} at ${b?.executablePath ?? '?'}; build ${timings.build} ms, launch ${timings.browserLaunch} ms`,
  );
});

afterEach(() => {
  // Nothing the page did was refused by its CSP or threw.
  expect(problems).toEqual([]);
});

describe('the operators console', () => {
  it('serves the page with a strict CSP and nosniff', async () => {
    const res = await fetch(`${h.baseUrl}/console`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-security-policy')).toBe(CONSOLE_CSP);
    expect(res.headers.get('x-content-type-options')).toBe('nosniff');
    const html = await res.text();
    // Only the bundle's own files: no inline script or style, nothing from elsewhere.
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/<style|style=/);
    expect(html).not.toMatch(/https?:\/\//);
  });

  it('signs in with an operator key and shows its role; refuses an app key and a wrong key', async () => {
    await page.goto(`${h.baseUrl}/console`);
    // Focus starts in the key field (once the page has started): type and press Enter, no mouse.
    await eventually(
      async () => page.evaluate("document.activeElement?.getAttribute('id') === 'api-key'"),
      15_000,
      50,
    );
    await page.keyboard.type(t.appKey);
    await page.keyboard.press('Enter');
    await hasText(page.getByRole('alert'), /This is an app key/);
    await page.getByLabel('API key').fill('vcn_operator_not-a-real-key');
    await page.getByRole('button', { name: 'Sign in' }).click();
    await hasText(page.getByRole('alert'), /UNAUTHENTICATED/);
    await shot('sign-in');

    await page.getByLabel('API key').fill(t.operatorKey);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await visible(nav('Cards'));
    await hasText(page.getByRole('banner'), /role\s*operator/);
    for (const name of ['Cards', 'Approvals', 'Deliveries', 'Reconciliation', 'Policy'])
      await visible(nav(name));
    // The key is in this tab's session storage and nowhere in the address or local storage.
    expect(page.url()).not.toContain(t.operatorKey);
    expect(await page.evaluate('JSON.stringify(localStorage)')).not.toContain(t.operatorKey);
    expect(await page.evaluate('JSON.stringify(sessionStorage)')).toContain(t.operatorKey);
    await visible(page.getByRole('heading', { name: 'Authorizations' }));
    await shot('overview');
  });

  it('finds the card by its last four digits and opens it', async () => {
    await nav('Cards').click();
    await page.getByLabel('Search cards').fill(card.last4);
    await page.getByLabel('Search cards').press('Enter');
    const row = page.getByRole('row').filter({ hasText: card.id });
    await visible(row);
    // A full card number is never sent, not even as a search term.
    await page.getByLabel('Search cards').fill(number);
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await hasText(page.getByRole('alert'), /Card numbers are not searchable/);
    await page.getByLabel('Search cards').fill(card.last4);
    await page.getByRole('button', { name: 'Search', exact: true }).click();
    await hidden(page.getByRole('alert'));
    await shot('cards');
    await row.getByRole('link').first().click();
    await visible(page.getByRole('heading', { name: 'Balances' }));
    expect(page.url()).toBe(`${h.baseUrl}/console/cards/${card.id}`);
  });

  it("reads the card's balances, transactions and timeline after an authorization and a capture", async () => {
    const approved = await atPartner({ cardId: card.partnerCardId, type: 'authorization', amount: 1_250 });
    expect(approved.approved).toBe(true);
    const declined = await atPartner({ cardId: card.partnerCardId, type: 'authorization', amount: 9_000 });
    expect(declined.approved).toBe(false);
    await atPartner({
      cardId: card.partnerCardId,
      type: 'clearing',
      transactionId: approved.transactionId,
      amount: 1_250,
    });
    // The partner was answered before the decline's row was written (that write may land after
    // the answer): the page is read once both transactions are on record.
    await eventually(async () => {
      const r = await h.request('GET', `/admin/cards/${card.id}/transactions`, { key: t.operatorKey });
      const rows = r.body.data as Array<{ capturedAmount: number; status: string }>;
      return rows.some((x) => x.capturedAmount === 1_250) && rows.some((x) => x.status === 'declined');
    });
    await page.reload();

    const balances = page.getByRole('region', { name: 'Balances' });
    await hasText(balances, /Captured\s*\$12\.50/);
    await hasText(balances.getByRole('row', { name: /Weekly/ }), /\$200\.00\s*\$12\.50\s*\$187\.50/);
    await visible(balances.getByRole('meter', { name: 'Weekly used' }));

    const txs = page.getByRole('region', { name: 'Transactions' });
    await hasText(txs.getByRole('row').filter({ hasText: approved.transactionId }), /Closed.*\$12\.50/);
    await hasText(txs.getByRole('row').filter({ hasText: 'EXCEEDS_PER_AUTHORIZATION_LIMIT' }), /Declined/);

    await visible(page.getByRole('img', { name: /Per hour, last 24 hours: 1 approved, 1 declined/ }));
    await hasText(page.getByRole('list', { name: 'Decline reasons' }), /Exceeds per authorization limit\s*1/);

    const timeline = page.getByRole('region', { name: 'Timeline' });
    await visible(timeline.getByText('Authorization request $12.50'));
    await visible(timeline.getByText('Clearing $12.50'));
    // A delivery opens to its stored payload (masked) and its outcomes.
    const delivery = timeline.getByRole('listitem').filter({ hasText: 'transaction.cleared from sandbox' });
    await delivery.locator('summary').click();
    await visible(delivery.getByText(`"transactionId": "${approved.transactionId}"`));
    await visible(delivery.getByText(/Payload \(card numbers masked\)/));

    const temporal = page.getByRole('link', { name: 'Open in Temporal UI' });
    expect(await temporal.getAttribute('href')).toMatch(
      /^http:\/\/127\.0\.0\.1:8233\/namespaces\/.+\/workflows\/card/,
    );
    await shot('card');
  });

  it('freezes the card with a reason, by keyboard, and sees the status change; unfreezes it', async () => {
    await page.getByRole('button', { name: 'Freeze', exact: true }).focus();
    await page.keyboard.press('Enter');
    await visible(dialog());
    // The reason is required: Confirm without one sends nothing.
    await dialog().getByRole('button', { name: 'Confirm' }).click();
    await visible(dialog());
    expect((await h.request('GET', `/admin/cards/${card.id}`, { key: t.operatorKey })).body.status).toBe(
      'active',
    );
    await dialog().getByLabel('Reason').focus();
    await page.keyboard.type('suspected fraud: shopper called');
    await page.keyboard.press('Tab'); // Close
    await page.keyboard.press('Tab'); // Confirm
    await page.keyboard.press('Enter');
    await hidden(dialog());
    await visible(page.getByRole('status').filter({ hasText: 'Freeze: applied' }));
    const title = page.locator('.page-title');
    await hasText(title, /Frozen\s*frozen by operator/);
    await hasText(title, /suspected fraud: shopper called/);
    await visible(page.getByRole('button', { name: 'Unfreeze' }));
    expect((await h.request('GET', `/admin/cards/${card.id}`, { key: t.operatorKey })).body).toMatchObject({
      status: 'frozen',
      frozenBy: 'operator',
    });
    await visible(page.getByRole('region', { name: 'Timeline' }).getByText(/Freeze requested by/));
    await shot('card-frozen');

    await page.getByRole('button', { name: 'Unfreeze' }).click();
    await dialog().getByLabel('Reason').fill('shopper confirmed the purchases');
    await page.keyboard.press('Escape');
    await hidden(dialog());
    await page.getByRole('button', { name: 'Unfreeze' }).click();
    await dialog().getByLabel('Reason').fill('shopper confirmed the purchases');
    await dialog().getByRole('button', { name: 'Confirm' }).click();
    await hasText(page.locator('.page-title'), /Active/);
  });

  it('an approver asks for higher limits; it waits, and the requester sees it without Approve or Reject', async () => {
    await signOut();
    await signIn(t.approverKey);
    await hasText(page.getByRole('banner'), /role\s*approver/);
    await page.goto(`${h.baseUrl}/console/cards/${card.id}`);
    await page.getByRole('button', { name: 'Change limits' }).click();
    await dialog().getByLabel('All time limit').fill('1,500.00');
    await dialog().getByLabel('Reason').fill('annual conference travel');
    await shot('card-change-limits', { fullPage: false });
    await dialog().getByRole('button', { name: 'Confirm' }).click();
    const answer = page.getByRole('status').filter({ hasText: 'Change limits: pending approval' });
    await visible(answer);
    await hasText(answer, /150000 is above the approval threshold 100000/);

    await nav('Approvals').click();
    const item = page.getByRole('article').filter({ hasText: 'annual conference travel' });
    await hasText(item, /\(you\)/);
    await visible(item.getByText('Your own request: another approver must decide it.'));
    expect(await item.getByRole('button', { name: 'Approve' }).count()).toBe(0);
    expect(await item.getByRole('button', { name: 'Reject' }).count()).toBe(0);
  });

  it('a second approver reads why it needs approval, before and after, and approves it with a note', async () => {
    await signOut();
    await signIn(secondApproverKey);
    await nav('Approvals').click();
    const item = page.getByRole('article').filter({ hasText: 'annual conference travel' });
    await visible(item.getByRole('heading', { name: 'Why approval is needed' }));
    await hasText(item, /150000 is above the approval threshold 100000/);
    await hasText(item.getByRole('row', { name: /All time/ }), /\$500\.00\s*\$1,500\.00/);
    await shot('approvals');
    await item.getByRole('button', { name: 'Approve' }).click();
    await dialog().getByLabel('Note').fill('checked the travel request');
    await dialog().getByRole('button', { name: 'Confirm' }).click();
    await visible(page.getByRole('status').filter({ hasText: /approved: Applied/ }));
    await visible(page.getByText('Nothing waits for approval.'));
    const after = (await h.request('GET', `/admin/cards/${card.id}`, { key: t.operatorKey })).body;
    expect(after.controls.spendingLimits).toEqual(
      expect.arrayContaining([{ amount: 150_000, interval: 'all_time' }]),
    );
  });

  it('filters deliveries by card and outcome, opens one with its headers and payload, and replays it', async () => {
    await nav('Deliveries').click();
    await page.getByLabel('Card').fill(card.id);
    await page.getByLabel('Outcome').selectOption('applied');
    await page.getByRole('button', { name: 'Filter' }).click();
    // The card's two authorization requests and its capture, each applied once.
    const requests = page.getByRole('row').filter({ hasText: 'authorization.request' });
    const captures = page.getByRole('row').filter({ hasText: 'clearing' });
    await eventually(async () => (await requests.count()) === 2 && (await captures.count()) === 1);
    await page.getByLabel('Outcome').selectOption('duplicate');
    await page.getByRole('button', { name: 'Filter' }).click();
    await visible(page.getByText('No delivery matches.'));
    await page.getByLabel('Outcome').selectOption('');
    await page.getByRole('button', { name: 'Filter' }).click();
    await captures.first().getByRole('link').first().click();
    const detail = page.getByRole('region', { name: 'Delivery' });
    await visible(detail.getByRole('heading', { name: 'Headers' }));
    await visible(detail.getByRole('row', { name: /webhook-signature/ }));
    await visible(detail.getByText(/"type": "transaction.cleared"/));
    const history = detail
      .getByRole('heading', { name: 'Outcome history' })
      .locator('xpath=following-sibling::ol[1]');
    expect(await history.getByRole('listitem').count()).toBe(1);
    await detail.getByRole('button', { name: 'Replay' }).click();
    await visible(detail.getByRole('status').filter({ hasText: 'Replayed' }));
    // The card applies an event once: the replay's outcome is a duplicate, shown when it lands.
    await eventually(async () => (await history.getByRole('listitem').count()) === 2);
    await hasText(history.getByRole('listitem').last(), /Duplicate/);
    expect(
      (await h.request('GET', `/admin/cards/${card.id}`, { key: t.operatorKey })).body.balances.captured,
    ).toBe(1_250);
    await shot('deliveries');
  });

  it('runs a reconciliation, follows its progress, and resolves the discrepancy it found', async () => {
    // Drift: a capture we were told of that the partner has no record of (left to a person).
    const user = await newUser(h, t);
    const other = (await issueCard(h, t, user.id)).body;
    const ghost = `sbt_ghost_${uniq('x')}`;
    const sent = await sendEvent(h, t, 'transaction.cleared', {
      transactionId: ghost,
      cardId: other.partnerCardId,
      amount: 2_000,
      currency: 'USD',
    });
    expect(sent.status).toBe(200);
    await eventually(async () => {
      const r = await h.request('GET', `/admin/cards/${other.id}/transactions`, { key: t.operatorKey });
      return r.body.data.some((x: any) => x.partnerTransactionId === ghost);
    });

    await nav('Reconciliation').click();
    await page.getByRole('button', { name: 'Run reconciliation' }).click();
    const run = page
      .getByRole('row')
      .filter({ has: page.getByRole('progressbar') })
      .first();
    await hasText(run, /pages · slices \d+\/\d+/);
    await hasText(run, /Completed.*Completed/, 60_000);
    await hasText(run, /Missing partner transaction\s*1/);

    const list = page.getByRole('region', { name: 'Discrepancies' });
    await list.getByLabel('Category').selectOption('missing_partner_transaction');
    const item = list.getByRole('article').filter({ hasText: ghost });
    // Both sides' figures: ours has the capture, the partner has no record of it.
    await visible(item.getByRole('columnheader', { name: "Partner's books" }));
    await hasText(item.getByRole('row', { name: /^record/ }), /present\s*no record/);
    await hasText(item.getByRole('row', { name: /^captured/ }), /\$20\.00/);
    await shot('reconciliation');
    await item.getByRole('button', { name: 'Resolve' }).click();
    await dialog().getByLabel('Resolution').selectOption('manual_adjustment');
    await dialog().getByLabel('Note').fill('partner confirmed the capture was a test; reversed by hand');
    await dialog().getByRole('button', { name: 'Confirm' }).click();
    await visible(list.getByRole('status').filter({ hasText: /Resolved.*Manual adjustment/ }));
    await list.getByLabel('Status').selectOption('resolved');
    await hasText(
      list.getByRole('article').filter({ hasText: ghost }),
      /partner confirmed the capture was a test/,
    );

    // The discrepancy is on the card's timeline, marked as reconciliation's.
    await page.goto(`${h.baseUrl}/console/cards/${other.id}`);
    const marked = page
      .getByRole('region', { name: 'Timeline' })
      .getByRole('listitem')
      .filter({ hasText: 'Missing partner transaction' });
    await visible(marked.getByText('reconciliation', { exact: true }));
  });

  it('shows the policy in force, sends a loosening change for approval, saves a tightening one', async () => {
    await signOut();
    await signIn(t.operatorKey);
    await nav('Policy').click();
    await visible(page.getByRole('heading', { name: 'Version 1 in force' }));
    await page.getByLabel('Maximum card spend limit (USD)').fill('9000.00');
    await hasText(
      page.getByRole('status').filter({ hasText: "Needs another person's approval" }),
      /largest card limit raised/,
    );
    await page.getByLabel('Reason for the change').fill('bigger cards for the pilot');
    await shot('policy-needs-approver');
    await page.getByRole('button', { name: 'Save policy' }).click();
    await hasText(page.getByRole('status').filter({ hasText: 'Sent for approval' }), /Approvals/);
    await visible(page.getByRole('heading', { name: 'Version 1 in force' }));
    await page.getByRole('button', { name: 'Reset' }).click();
    await page.getByLabel('Maximum card spend limit (USD)').fill('4000.00');
    await page.getByLabel('Reason for the change').fill('smaller cards for the pilot');
    await visible(page.getByText('No approval needed: your key can save it.'));
    await page.getByRole('button', { name: 'Save policy' }).click();
    await visible(page.getByRole('status').filter({ hasText: 'Saved: version 2 is in force.' }));
    await visible(page.getByRole('heading', { name: 'Version 2 in force' }));
    const history = page.getByRole('region', { name: 'History' });
    await hasText(
      history.getByRole('listitem').filter({ hasText: 'Version 2' }),
      /smaller cards for the pilot.*maxCardSpendLimit/,
    );
    await shot('policy');
  });

  it("shows the API's code and message instead of a blank page", async () => {
    await page.goto(`${h.baseUrl}/console/cards/card_doesnotexist`);
    await hasText(page.getByRole('alert'), /NOT_FOUND\s*card not found/);
    await page.goto(`${h.baseUrl}/console/nowhere`);
    await visible(page.getByRole('heading', { name: 'Not found' }));
  });

  it('has no serious or critical accessibility violations on any page (axe-core)', () => {
    // Every finding, of any impact, beside the screenshots for whoever improves the pages next.
    fs.writeFileSync(path.join(shotsDir, 'axe.json'), JSON.stringify(axeViolations, null, 2));
    expect(axeViolations.filter((v) => v.impact === 'serious' || v.impact === 'critical')).toEqual([]);
  });
});
