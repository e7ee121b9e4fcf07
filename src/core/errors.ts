/**
 * The ground floor of error handling. A {@link UserError} is a mistake the user can fix (a bad flag,
 * spec, config, file, dataset or backend): the CLI prints its message as one line and exits 2, never a
 * stack trace. Every user-facing error class in fedattack extends it — DataError, ModelError,
 * BackendError, ImageError, SpecError, AggregatorError, AttackError, … — so `instanceof UserError`
 * is the only test; anything else is a bug and is reported as an internal error.
 */
export class UserError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** Whether `e` is the user's to fix (see {@link UserError}). */
export function isUserError(e: unknown): e is UserError {
  return e instanceof UserError;
}
