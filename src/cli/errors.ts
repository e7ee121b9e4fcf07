/**
 * User mistakes (bad flags, bad files, unavailable backends) end the program with one clear line and
 * a non-zero exit, never a stack trace. Every module throws its own Error subclass; this module knows
 * which of them are the user's to fix.
 */
export class UserError extends Error {}

const USER_ERROR_NAMES = new Set(['UserError', 'DataError', 'ModelError', 'BackendError', 'ImageError', 'PartitionError', 'ConfigError', 'YAMLParseError']);

export function isUserError(e: unknown): e is Error {
  if (!(e instanceof Error)) return false;
  for (let c: object | null = e; c !== null && c !== Error.prototype; c = Object.getPrototypeOf(c)) {
    const name = (c as { constructor?: { name?: string } }).constructor?.name;
    if (name !== undefined && USER_ERROR_NAMES.has(name)) return true;
  }
  return false;
}
