import { WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { DomainError, ERROR_CODES } from '../domain/errors';
import { ERROR_STATUS, statusOf, toErrorResponse } from './errors';

describe('error codes and HTTP statuses', () => {
  it('gives every domain error code exactly one status, a 4xx or 5xx', () => {
    expect(Object.keys(ERROR_STATUS).sort()).toEqual([...ERROR_CODES].sort());
    for (const code of ERROR_CODES) {
      expect(Number.isInteger(statusOf(code))).toBe(true);
      expect(statusOf(code)).toBeGreaterThanOrEqual(400);
      expect(statusOf(code)).toBeLessThan(600);
    }
  });

  it('keeps 5xx for the platform’s own failures, never for a refusal of the input', () => {
    const fiveHundreds = ERROR_CODES.filter((c) => statusOf(c) >= 500).sort();
    expect(fiveHundreds).toEqual(['DEPENDENCY_UNAVAILABLE', 'INTERNAL', 'PARTNER_UNAVAILABLE']);
  });

  it('answers a domain error with its code, message, details and the status of its code', () => {
    for (const code of ERROR_CODES) {
      const r = toErrorResponse(new DomainError(code, `refused: ${code}`, { why: code }));
      expect(r).toEqual({
        status: ERROR_STATUS[code],
        body: { error: { code, message: `refused: ${code}`, details: { why: code } } },
        internal: false,
      });
    }
  });

  it('keeps domain errors free of HTTP: they carry a code and details only', () => {
    const err = new DomainError('CARD_FROZEN_BY_OPERATOR', 'frozen');
    expect(Object.keys(err).sort()).toEqual(['code', 'details', 'name']);
  });

  it('answers an unknown failure as 500 INTERNAL without its message', () => {
    const r = toErrorResponse(new Error('connection string postgres://secret@db'));
    expect(r.status).toBe(500);
    expect(r.internal).toBe(true);
    expect(JSON.stringify(r.body)).not.toContain('secret');
  });

  it('maps a card workflow refusal (an ApplicationFailure typed with a code) to that code', () => {
    const refusal = (type: string) =>
      new WorkflowUpdateFailedError(
        'update failed',
        ApplicationFailure.create({ type, message: 'the operator froze it', nonRetryable: true }),
      );
    expect(toErrorResponse(refusal('CARD_FROZEN_BY_OPERATOR'))).toEqual({
      status: 409,
      body: { error: { code: 'CARD_FROZEN_BY_OPERATOR', message: 'the operator froze it' } },
      internal: false,
    });
    // A type that is no code of ours is an internal failure, not a refusal.
    expect(toErrorResponse(refusal('SomethingElse')).status).toBe(500);
  });
});
