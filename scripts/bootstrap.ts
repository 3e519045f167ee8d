/**
 * `npm run bootstrap -- --slug <slug> --out <file> [--name <name>]`: a production deployment's
 * first credentials against DATABASE_URL (migrated first: `npm run migrate`), made once: a platform
 * key and a first tenant with its keys (and the sandbox subscription where SANDBOX_ENABLED), written
 * to <file> (mode 0600) in the shape of `.data/dev-credentials.json`, `apiUrl` from PUBLIC_URL.
 * A second run changes nothing, writes nothing and says so (exit 0). The tenant's reconciliation
 * schedule is made by `npm run reconcile:schedule` once Temporal is up.
 */
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { loadConfig } from '../src/config';
import { createKnex, pendingMigrations } from '../src/db/knex';
import { createPartnerRegistry } from '../src/partners/registry';
import { bootstrapPlatform, provisioning } from '../src/tenants/bootstrap';
import { Vault } from '../src/vault/vault';

const SLUG = /^[a-z0-9][a-z0-9-]{1,62}$/;

function fail(message: string): never {
  console.error(`bootstrap: ${message}`);
  process.exit(2);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: { slug: { type: 'string' }, out: { type: 'string' }, name: { type: 'string' } },
    strict: true,
  });
  if (!values.slug || !SLUG.test(values.slug))
    fail('--slug <slug> is required: lower-case letters, digits and dashes, 2 to 63 characters');
  if (!values.out) fail('--out <file> is required: where the credentials are written (mode 0600)');
  // Temporal is not needed here: the worker and `npm run reconcile:schedule` use it later.
  const config = loadConfig({ TEMPORAL_ADDRESS: 'unused', ...process.env });
  if (!process.env.PUBLIC_URL) fail('PUBLIC_URL is required: the URL apps and partners reach the API at');

  const knex = createKnex(config.databaseUrl, { poolMax: 2 });
  try {
    const pending = await pendingMigrations(knex);
    if (pending.length)
      fail(`the database is not migrated (${pending.length} pending): run \`npm run migrate\` first`);
    // The file is claimed before anything is created, so secrets are never made with nowhere to go.
    let fd: number;
    try {
      fd = fs.openSync(values.out, 'wx', 0o600);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      fail(
        code === 'EEXIST' ? `${values.out} exists: not overwritten` : `cannot write ${values.out} (${code})`,
      );
    }
    const vault = new Vault(config.vaultKey);
    const partners = provisioning(
      createPartnerRegistry({ knex, vault, publicUrl: () => config.publicUrl }),
      config.sandboxEnabled,
    );
    const result = await bootstrapPlatform(
      { knex, vault, partners, publicUrl: config.publicUrl },
      { slug: values.slug, name: values.name ?? values.slug },
    ).catch((err: unknown) => {
      fs.closeSync(fd);
      fs.rmSync(values.out!);
      throw err;
    });
    if (!result.created) {
      fs.closeSync(fd);
      fs.rmSync(values.out);
      console.log(`bootstrap: already done, nothing changed: ${result.reason}`);
      return;
    }
    const t = result.tenant;
    const credentials = {
      apiUrl: config.publicUrl,
      temporalUiUrl: config.temporal.uiUrl,
      platformKey: result.platformKey,
      tenants: [
        {
          id: t.id,
          slug: t.slug,
          appKey: t.appKey,
          operatorKey: t.operatorKey,
          approverKey: t.approverKey,
          ...t.partnerCredentials,
        },
      ],
    };
    fs.writeSync(fd, `${JSON.stringify(credentials, null, 2)}\n`);
    fs.closeSync(fd);
    console.log(
      `bootstrap: created the platform key and tenant ${t.slug} (${t.id}); credentials in ${values.out}` +
        (t.subscriptions.length
          ? `; subscriptions: ${t.subscriptions.map((s) => s.partner).join(', ')}`
          : '') +
        '; next: `npm run reconcile:schedule`',
    );
  } finally {
    await knex.destroy();
  }
}

main().catch((err) => {
  console.error(`bootstrap failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
