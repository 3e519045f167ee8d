import type { ApiKeyRole } from './auth';

/** A key's holder as far as key management cares: its role and its principal. */
export interface KeyHolder {
  role: ApiKeyRole;
  principal: string;
}

const RANK: Record<'operator' | 'approver', number> = { operator: 1, approver: 2 };

/**
 * Why `caller` may not create, rotate or revoke a tenant key of `target`'s role and principal
 * (null: it may). Whoever mints or rotates a key receives its secret, so holds its power:
 * - a platform key provisions tenants and may manage any of their keys;
 * - an app key manages no keys;
 * - app keys (which decide nothing in maker-checker) may be managed by any operator or approver;
 * - an operator or approver key manages operator and approver keys only of its own principal and
 *   never of a higher role: an operator cannot mint itself an approver key, and nobody mints a key
 *   for a second principal, which would let one person request and approve as two.
 */
export function keyManagementRefusal(caller: KeyHolder, target: KeyHolder): string | null {
  if (caller.role === 'platform') return null;
  if (caller.role === 'app') return 'app keys manage no API keys';
  if (target.role === 'app') return null;
  if (target.role === 'platform') return 'platform keys are managed by the platform';
  if (RANK[target.role] > RANK[caller.role])
    return `an ${caller.role} key cannot mint or manage an ${target.role} key`;
  if (target.principal !== caller.principal)
    return (
      `an ${caller.role} key manages operator and approver keys of its own principal only ` +
      `(${JSON.stringify(caller.principal)}); a platform key provisions other principals`
    );
  return null;
}
