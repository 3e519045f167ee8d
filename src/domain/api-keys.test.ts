import fc from 'fast-check';
import { keyManagementRefusal, type KeyHolder } from './api-keys';
import type { ApiKeyRole } from './auth';

const alice = (role: ApiKeyRole): KeyHolder => ({ role, principal: 'alice' });
const bob = (role: ApiKeyRole): KeyHolder => ({ role, principal: 'bob' });

describe('keyManagementRefusal', () => {
  it.each([
    // caller, target, allowed
    [alice('platform'), bob('approver'), true],
    [alice('platform'), bob('app'), true],
    [alice('app'), alice('app'), false],
    [alice('app'), bob('app'), false],
    [alice('operator'), bob('app'), true],
    [alice('operator'), alice('operator'), true],
    [alice('operator'), bob('operator'), false],
    [alice('operator'), alice('approver'), false],
    [alice('operator'), bob('approver'), false],
    [alice('approver'), bob('app'), true],
    [alice('approver'), alice('operator'), true],
    [alice('approver'), alice('approver'), true],
    [alice('approver'), bob('operator'), false],
    [alice('approver'), bob('approver'), false],
    [alice('approver'), alice('platform'), false],
  ])('%o managing %o: allowed %s', (caller, target, allowed) => {
    expect(keyManagementRefusal(caller, target) === null).toBe(allowed);
  });

  it('never lets a tenant key obtain a second principal with power in maker-checker', () => {
    const role = fc.constantFrom<ApiKeyRole>('app', 'operator', 'approver');
    fc.assert(
      fc.property(role, fc.string(), role, fc.string(), (cr, cp, tr, tp) => {
        const allowed =
          keyManagementRefusal({ role: cr, principal: cp }, { role: tr, principal: tp }) === null;
        if (allowed && tr !== 'app') expect(tp).toBe(cp);
        if (allowed && tr === 'approver') expect(cr).toBe('approver');
      }),
    );
  });
});
