/**
 * A partner connection that cannot be used as configured (no API key, a bad base URL, a card
 * without what the partner requires): retrying the same call does not help, so an activity should
 * fail it at once (`nonRetryable`) and let an operator fix the subscription or the input.
 */
export class PartnerConfigError extends Error {
  readonly nonRetryable = true;
  constructor(message: string) {
    super(message);
    this.name = 'PartnerConfigError';
  }
}
