import type { Knex } from 'knex';
import type { Client } from '@temporalio/client';
import type { Logger } from 'pino';
import type Koa from 'koa';
import type { ApiKeyRole } from '../domain/auth';
import type { Vault } from '../vault/vault';
import type { PartnerRegistry } from '../partners/adapter';
import type { CardWorkflowConfig } from '../temporal/card-client';
import type { ReconciliationSettings } from '../config';

export interface ApiDeps {
  knex: Knex;
  temporal: Client;
  vault: Vault;
  logger: Logger;
  /** How card workflows are started: task queue and continue-as-new cap. */
  cards: CardWorkflowConfig;
  /** The partners by name (`createPartnerRegistry`). */
  partners: PartnerRegistry;
  config: {
    publicUrl: string;
    temporalUiUrl: string;
    temporalNamespace: string;
    bodyLimitBytes: number;
    sandboxEnabled: boolean;
    /** When set, `GET /metrics` needs `Authorization: Bearer <this>` (open otherwise, as in `npm run dev`). */
    metricsToken?: string;
    /** How manual reconciliation runs are made (defaults: DEFAULT_RECONCILIATION). */
    reconciliation?: Partial<ReconciliationSettings>;
  };
}

export interface AuthInfo {
  keyId: string;
  tenantId: string | null;
  role: ApiKeyRole;
  /** The person or system holding the key (maker-checker compares these). */
  principal: string;
}

export interface BodyOverflow {
  /** Bytes received (reading stops at a ceiling: then `complete` is false). */
  bytes: number;
  /** SHA-256 (hex) of the bytes received. */
  sha256: string;
  complete: boolean;
  limitBytes: number;
}

export interface AppState {
  requestId: string;
  log: Logger;
  auth?: AuthInfo;
  rawBody?: Buffer;
  /** A webhook delivery over the body limit: `rawBody` is its first bytes; what was received in all. */
  bodyOverflow?: BodyOverflow;
  /** Set by the idempotency middleware: hash of method, path and body. */
  requestHash?: string;
}

export type AppContext = Koa.ParameterizedContext<AppState> & { params: Record<string, string> };

/** The authenticated tenant id; routes under /v1 and /admin always have one. */
export function tenantOf(ctx: AppContext): string {
  const id = ctx.state.auth?.tenantId;
  if (!id) throw new Error('tenantOf called without a tenant-scoped key');
  return id;
}

/** Link to a workflow in the Temporal Web UI, when the UI's URL is known. */
export function temporalUiLink(deps: ApiDeps, workflowId: string): string | null {
  const { temporalUiUrl, temporalNamespace } = deps.config;
  return temporalUiUrl
    ? `${temporalUiUrl}/namespaces/${encodeURIComponent(temporalNamespace)}/workflows/${encodeURIComponent(workflowId)}`
    : null;
}
