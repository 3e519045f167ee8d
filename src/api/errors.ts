import { ZodError } from 'zod';
import { WorkflowUpdateFailedError, WorkflowNotFoundError } from '@temporalio/client';
import { ApplicationFailure } from '@temporalio/common';
import { ApiError, ERROR_STATUS, isErrorCode } from '../domain/errors';

export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

/** Turns a Zod error into the VALIDATION_FAILED shape with one entry per field. */
export function validationError(err: ZodError, where = 'body'): ApiError {
  return new ApiError('VALIDATION_FAILED', `invalid ${where}`, {
    fields: err.issues.map((i) => ({ path: i.path.join('.'), message: i.message, code: i.code })),
  });
}

/** A business refusal raised inside a card workflow (ApplicationFailure type = our error code). */
function fromWorkflowFailure(err: unknown): ApiError | null {
  let cause: unknown = err;
  for (let depth = 0; cause && depth < 5; depth++) {
    if (cause instanceof ApplicationFailure && cause.type && isErrorCode(cause.type)) {
      const details =
        Array.isArray(cause.details) && cause.details[0] && typeof cause.details[0] === 'object'
          ? (cause.details[0] as Record<string, unknown>)
          : undefined;
      return new ApiError(cause.type, cause.message, details);
    }
    cause = (cause as { cause?: unknown }).cause;
  }
  return null;
}

/** Maps every error family to one status and body; nothing internal leaks to the caller. */
export function toErrorResponse(err: unknown): { status: number; body: ErrorBody; internal: boolean } {
  if (err instanceof ApiError) {
    return {
      status: err.status,
      body: { error: { code: err.code, message: err.message, details: err.details } },
      internal: false,
    };
  }
  if (err instanceof ZodError) return toErrorResponse(validationError(err));
  if (err instanceof WorkflowUpdateFailedError) {
    const mapped = fromWorkflowFailure(err);
    if (mapped) return toErrorResponse(mapped);
  }
  if (err instanceof WorkflowNotFoundError) {
    return toErrorResponse(new ApiError('NOT_FOUND', 'not found'));
  }
  const e = err as { status?: number; expose?: boolean; message?: string; type?: string; code?: string };
  // PostgreSQL data exceptions (class 22: bad encoding, out-of-range values) are bad input.
  if (typeof e?.code === 'string' && /^22[0-9A-Z]{3}$/.test(e.code)) {
    return toErrorResponse(new ApiError('VALIDATION_FAILED', 'a value in the request cannot be stored'));
  }
  if (e?.type === 'entity.too.large' || e?.status === 413) {
    return toErrorResponse(new ApiError('PAYLOAD_TOO_LARGE', 'request body is larger than the limit'));
  }
  if (typeof e?.status === 'number' && e.status >= 400 && e.status < 500 && e.expose) {
    const code = e.status === 404 ? 'NOT_FOUND' : e.status === 401 ? 'UNAUTHENTICATED' : 'VALIDATION_FAILED';
    return {
      status: e.status,
      body: { error: { code, message: e.message ?? 'bad request' } },
      internal: false,
    };
  }
  return {
    status: ERROR_STATUS.INTERNAL,
    body: {
      error: { code: 'INTERNAL', message: 'internal error; the request id identifies it in the logs' },
    },
    internal: true,
  };
}
