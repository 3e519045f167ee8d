export const API_KEY_ROLES = ['app', 'operator', 'approver', 'platform'] as const;
export type ApiKeyRole = (typeof API_KEY_ROLES)[number];

/** An approver is an operator who may also approve; everything an operator may do, an approver may. */
export function roleSatisfies(role: ApiKeyRole, allowed: readonly ApiKeyRole[]): boolean {
  if (allowed.includes(role)) return true;
  return role === 'approver' && allowed.includes('operator');
}
