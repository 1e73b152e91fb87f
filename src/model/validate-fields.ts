/**
 * The field checkers of the run validators (./validate-run.ts and the validators of other records: a
 * checkpoint, the browser's stored runs). Each takes a value of unknown shape and returns it typed, or
 * throws one {@link RunValidationError} naming where the field is, what was expected and what was found
 * ("config.json: model.hiddenDim: expected a whole number from 1 to 2048, got 12000").
 */
import { describeValue } from './limits';

export type Rec = Record<string, unknown>;

/** Thrown for a file or record that fails validation; `message` names the file and field. */
export class RunValidationError extends Error {
  override name = 'RunValidationError';
}

/** Throws the one message shape: `where: expected <what>, got <what was found>`. */
export const fail = (where: string, expected: string, got: unknown): never => {
  throw new RunValidationError(`${where}: expected ${expected}, got ${describeValue(got)}`);
};

/** A plain object (not null, not an array). */
export const isRec = (v: unknown): v is Rec => typeof v === 'object' && v !== null && !Array.isArray(v);

/** An object, typed as a record of unknown fields. */
export function rec(where: string, v: unknown): Rec {
  return isRec(v) ? v : fail(where, 'an object', v);
}

/** A string of at most `maxChars` characters. */
export function str(where: string, v: unknown, maxChars = 10_000): string {
  if (typeof v !== 'string') return fail(where, 'a string', v);
  if (v.length > maxChars) return fail(where, `at most ${maxChars} characters`, `${v.length} characters`);
  return v;
}

/** true or false. */
export function bool(where: string, v: unknown): boolean {
  return typeof v === 'boolean' ? v : fail(where, 'true or false', v);
}

/** A finite number within [min, max] (above min when `exclusiveMin`). */
export function num(
  where: string,
  v: unknown,
  min = -Infinity,
  max = Infinity,
  exclusiveMin = false,
): number {
  if (typeof v !== 'number' || !Number.isFinite(v) || v < min || v > max || (exclusiveMin && v <= min)) {
    const range =
      min === -Infinity && max === Infinity
        ? 'a finite number'
        : `a number ${exclusiveMin ? 'above' : 'from'} ${min}${max === Infinity ? '' : ` ${exclusiveMin ? 'and at most' : 'to'} ${max}`}`;
    return fail(where, range, v);
  }
  return v;
}

/** A whole number within [min, max]. */
export function int(where: string, v: unknown, min = 0, max = Number.MAX_SAFE_INTEGER): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max)
    return fail(where, `a whole number from ${min} to ${max}`, v);
  return v;
}

/** One of the `allowed` strings. */
export function oneOf<T extends string>(where: string, v: unknown, allowed: readonly T[]): T {
  return allowed.includes(v as T)
    ? (v as T)
    : fail(where, `one of ${allowed.map((a) => `'${a}'`).join(', ')}`, v);
}

/** An array of at most `maxLength` entries (checked before any entry is read). */
export function arr(where: string, v: unknown, maxLength: number): unknown[] {
  if (!Array.isArray(v)) return fail(where, 'an array', v);
  if (v.length > maxLength) return fail(where, `at most ${maxLength} entries`, `${v.length} entries`);
  return v;
}

/** An optional field: absent (undefined) or checked by `check`. */
export function opt<T>(v: unknown, check: (v: unknown) => T): T | undefined {
  return v === undefined ? undefined : check(v);
}

/** The field checkers, for validators of other records (e.g. the browser's stored runs). */
export const field = { rec, str, bool, num, int, oneOf, arr };
