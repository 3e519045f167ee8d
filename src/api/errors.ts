import { ZodError } from 'zod';
import { DomainError, type ErrorCode } from '../domain/errors';
import { refusalOf } from '../temporal/failures';

/** The HTTP status of every error code (api.md "Conventions"): one code, one status. */
export const ERROR_STATUS: Readonly<Record<ErrorCode, number>> = {
  // 400
  INVALID_JSON: 400,
  VALIDATION_FAILED: 400,
  IDEMPOTENCY_KEY_REQUIRED: 400,
  WEBHOOK_UNPARSEABLE: 400,
  // 401
  UNAUTHENTICATED: 401,
  WEBHOOK_SIGNATURE_INVALID: 401,
  // 403
  FORBIDDEN: 403,
  SELF_APPROVAL_FORBIDDEN: 403,
  APPROVER_REQUIRED: 403,
  ACTOR_NOT_ALLOWED: 403,
  // 404
  NOT_FOUND: 404,
  ROUTE_NOT_FOUND: 404,
  // 405
  METHOD_NOT_ALLOWED: 405,
  // 409
  IDEMPOTENCY_KEY_REUSED: 409,
  IDEMPOTENCY_REQUEST_IN_PROGRESS: 409,
  CARD_TRANSITION_NOT_ALLOWED: 409,
  CARD_FROZEN_BY_OPERATOR: 409,
  CARD_FROZEN_BY_PARTNER: 409,
  CARD_NOT_ISSUED: 409,
  CARD_NOT_REVEALABLE: 409,
  CARD_NUMBER_UNAVAILABLE: 409,
  ACTION_NOT_PENDING: 409,
  OVERRIDE_NOT_REVERSIBLE: 409,
  EXPIRY_NOT_EXTENDED: 409,
  USER_ALREADY_IN_STATE: 409,
  TENANT_SLUG_TAKEN: 409,
  USER_EXTERNAL_ID_TAKEN: 409,
  DISCREPANCY_ALREADY_RESOLVED: 409,
  API_KEY_REVOKED: 409,
  // 413 / 415
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  // 422
  USER_NOT_ACTIVE: 422,
  REGION_NOT_ALLOWED: 422,
  SPEND_LIMIT_ABOVE_PROGRAM_MAX: 422,
  USER_WEEKLY_CARD_LIMIT_REACHED: 422,
  CARD_EXPIRY_IN_PAST: 422,
  USER_BILLING_ADDRESS_REQUIRED: 422,
  CURRENCY_NOT_SUPPORTED: 422,
  // 429
  RATE_LIMITED: 429,
  // 5xx: never for bad input
  INTERNAL: 500,
  PARTNER_UNAVAILABLE: 502,
  DEPENDENCY_UNAVAILABLE: 503,
};

/** The status an error code answers with. */
export const statusOf = (code: ErrorCode): number => ERROR_STATUS[code];

export interface ErrorBody {
  error: { code: string; message: string; details?: Record<string, unknown> };
}

/** Turns a Zod error into the VALIDATION_FAILED shape with one entry per field. */
export function validationError(err: ZodError, where = 'body'): DomainError {
  return new DomainError('VALIDATION_FAILED', `invalid ${where}`, {
    fields: err.issues.map((i) => ({ path: i.path.join('.'), message: i.message, code: i.code })),
  });
}

/** Maps every error family to one status and body; nothing internal leaks to the caller. */
export function toErrorResponse(err: unknown): { status: number; body: ErrorBody; internal: boolean } {
  if (err instanceof DomainError) {
    return {
      status: statusOf(err.code),
      body: { error: { code: err.code, message: err.message, details: err.details } },
      internal: false,
    };
  }
  if (err instanceof ZodError) return toErrorResponse(validationError(err));
  // A card workflow's refusal (its ApplicationFailure type is our code), or a workflow that is gone.
  const refusal = refusalOf(err);
  if (refusal) return toErrorResponse(refusal);
  const e = err as { status?: number; expose?: boolean; message?: string; type?: string; code?: string };
  // PostgreSQL data exceptions (class 22: bad encoding, out-of-range values) are bad input.
  if (typeof e?.code === 'string' && /^22[0-9A-Z]{3}$/.test(e.code)) {
    return toErrorResponse(new DomainError('VALIDATION_FAILED', 'a value in the request cannot be stored'));
  }
  if (e?.type === 'entity.too.large' || e?.status === 413) {
    return toErrorResponse(new DomainError('PAYLOAD_TOO_LARGE', 'request body is larger than the limit'));
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
