import { WorkflowNotFoundError, WorkflowUpdateFailedError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { DomainError, isErrorCode } from '../domain/errors';

/**
 * The domain refusal a Temporal call failed with, if it was one: a card workflow's business
 * refusal (an ApplicationFailure whose type is one of our codes, inside the update's failure),
 * or a workflow that is gone (NOT_FOUND). Anything else is not a refusal (null).
 */
export function refusalOf(err: unknown): DomainError | null {
  if (err instanceof DomainError) return err;
  if (err instanceof WorkflowNotFoundError) return new DomainError('NOT_FOUND', 'not found');
  if (!(err instanceof WorkflowUpdateFailedError)) return null;
  let cause: unknown = err;
  for (let depth = 0; cause && depth < 5; depth++) {
    if (cause instanceof ApplicationFailure && cause.type && isErrorCode(cause.type)) {
      const details =
        Array.isArray(cause.details) && cause.details[0] && typeof cause.details[0] === 'object'
          ? (cause.details[0] as Record<string, unknown>)
          : undefined;
      return new DomainError(cause.type, cause.message, details);
    }
    cause = (cause as { cause?: unknown }).cause;
  }
  return null;
}
