/** The device must sign in again: the store was destroyed (sign-out, revocation or the offline limit). */
export class SignInRequired extends Error {
  readonly reason: 'sign-out' | 'revoked' | 'expired';
  constructor(reason: 'sign-out' | 'revoked' | 'expired', message?: string) {
    super(message ?? `Sign in again (${reason}).`);
    this.name = 'SignInRequired';
    this.reason = reason;
  }
}

/** An answer of the API that is not a success, with its problem+json body. */
export class ApiError extends Error {
  readonly status: number;
  readonly problem: Record<string, unknown> | undefined;
  constructor(status: number, problem: Record<string, unknown> | undefined, message?: string) {
    super(message ?? `${status} ${String(problem?.['title'] ?? 'error')}`);
    this.name = 'ApiError';
    this.status = status;
    this.problem = problem;
  }
}
