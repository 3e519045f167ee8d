/**
 * Every error code the platform refuses with: stable, machine-readable, and the same whichever
 * layer raised it (a route, a command, a card workflow's ApplicationFailure type). The HTTP status
 * of each is the API's business (`src/api/errors.ts`), not the domain's.
 */
export const ERROR_CODES = [
  'INVALID_JSON',
  'VALIDATION_FAILED',
  'IDEMPOTENCY_KEY_REQUIRED',
  'WEBHOOK_UNPARSEABLE',
  'UNAUTHENTICATED',
  'WEBHOOK_SIGNATURE_INVALID',
  'FORBIDDEN',
  'SELF_APPROVAL_FORBIDDEN',
  'APPROVER_REQUIRED',
  'ACTOR_NOT_ALLOWED',
  'NOT_FOUND',
  'ROUTE_NOT_FOUND',
  'METHOD_NOT_ALLOWED',
  'IDEMPOTENCY_KEY_REUSED',
  'IDEMPOTENCY_REQUEST_IN_PROGRESS',
  'CARD_TRANSITION_NOT_ALLOWED',
  'CARD_FROZEN_BY_OPERATOR',
  'CARD_FROZEN_BY_PARTNER',
  'CARD_NOT_ISSUED',
  'CARD_NOT_REVEALABLE',
  'CARD_NUMBER_UNAVAILABLE',
  'ACTION_NOT_PENDING',
  'OVERRIDE_NOT_REVERSIBLE',
  'EXPIRY_NOT_EXTENDED',
  'USER_ALREADY_IN_STATE',
  'TENANT_SLUG_TAKEN',
  'USER_EXTERNAL_ID_TAKEN',
  'DISCREPANCY_ALREADY_RESOLVED',
  'API_KEY_REVOKED',
  'PAYLOAD_TOO_LARGE',
  'UNSUPPORTED_MEDIA_TYPE',
  'USER_NOT_ACTIVE',
  'REGION_NOT_ALLOWED',
  'SPEND_LIMIT_ABOVE_PROGRAM_MAX',
  'USER_WEEKLY_CARD_LIMIT_REACHED',
  'CARD_EXPIRY_IN_PAST',
  'USER_BILLING_ADDRESS_REQUIRED',
  'CURRENCY_NOT_SUPPORTED',
  'RATE_LIMITED',
  'INTERNAL',
  'PARTNER_UNAVAILABLE',
  'DEPENDENCY_UNAVAILABLE',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

const KNOWN: ReadonlySet<string> = new Set(ERROR_CODES);

export function isErrorCode(code: string): code is ErrorCode {
  return KNOWN.has(code);
}

/** A refusal with a stable code, a message for people and optional details for machines. */
export class DomainError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: Record<string, unknown>,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}
