/** Public id prefixes: a log line or an error says what an id names. */
export const ID_PREFIX = {
  tenant: 'ten',
  user: 'usr',
  card: 'card',
  transaction: 'txn',
  webhookEvent: 'whe',
  adminAction: 'act',
  reconciliation: 'rec',
  discrepancy: 'dsc',
  apiKey: 'key',
  vaultEntry: 'vlt',
  subscription: 'psub',
} as const;

export type IdKind = keyof typeof ID_PREFIX;

export function hasPrefix(kind: IdKind, id: string): boolean {
  return id.startsWith(`${ID_PREFIX[kind]}_`) && id.length > ID_PREFIX[kind].length + 1;
}

/** Card workflow id: one workflow per card, namespaced by tenant. */
export function cardWorkflowId(tenantId: string, cardId: string): string {
  return `card:${tenantId}:${cardId}`;
}
