/**
 * Every error code the API can answer with, and its HTTP status. One code, one status.
 */
export const ERROR_STATUS = {
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
  ACTION_NOT_PENDING: 409,
  OVERRIDE_NOT_REVERSIBLE: 409,
  EXPIRY_NOT_EXTENDED: 409,
  USER_ALREADY_IN_STATE: 409,
  TENANT_SLUG_TAKEN: 409,
  USER_EXTERNAL_ID_TAKEN: 409,
  DISCREPANCY_ALREADY_RESOLVED: 409,
  // 413 / 415
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  // 422
  USER_NOT_ACTIVE: 422,
  REGION_NOT_ALLOWED: 422,
  SPEND_LIMIT_ABOVE_PROGRAM_MAX: 422,
  USER_WEEKLY_CARD_LIMIT_REACHED: 422,
  CARD_EXPIRY_IN_PAST: 422,
  CURRENCY_NOT_SUPPORTED: 422,
  // 429
  RATE_LIMITED: 429,
  // 5xx: never for bad input
  INTERNAL: 500,
  PARTNER_UNAVAILABLE: 502,
  DEPENDENCY_UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export function isErrorCode(code: string): code is ErrorCode {
  return Object.prototype.hasOwnProperty.call(ERROR_STATUS, code);
}

/** A refusal the API turns into `{ error: { code, message, details } }` with the code's status. */
export class ApiError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'ApiError';
    this.status = ERROR_STATUS[code];
  }
}
