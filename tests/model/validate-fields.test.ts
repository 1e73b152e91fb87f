import { describe, expect, it } from 'vitest';
import {
  arr,
  bool,
  fail,
  field,
  int,
  isRec,
  num,
  oneOf,
  opt,
  rec,
  RunValidationError,
  str,
} from '../../src/model/validate-fields';

/** The message of the error `f` throws (failing the test when it throws none, or another kind). */
function messageOf(f: () => unknown): string {
  try {
    f();
  } catch (e) {
    expect(e).toBeInstanceOf(RunValidationError);
    return (e as Error).message;
  }
  throw new Error('expected a RunValidationError, nothing was thrown');
}

describe('field checkers', () => {
  it('return a valid value unchanged, typed', () => {
    const o = { a: 1 };
    expect(rec('x', o)).toBe(o);
    expect(str('x', 'abc', 3)).toBe('abc');
    expect(bool('x', false)).toBe(false);
    expect(num('x', 0.5, 0, 1)).toBe(0.5);
    expect(int('x', 7, 1, 7)).toBe(7);
    expect(oneOf('x', 'order', ['order', 'cosine'] as const)).toBe('order');
    expect(arr('x', [1, 2], 2)).toEqual([1, 2]);
    expect(opt(undefined, (v) => int('x', v))).toBeUndefined();
    expect(opt(3, (v) => int('x', v))).toBe(3);
  });

  it('throw one error naming where, what was expected and what was found', () => {
    expect(messageOf(() => rec('config.json: model', [1]))).toMatch(
      /^config\.json: model: expected an object, got /,
    );
    expect(messageOf(() => str('f: name', 5))).toMatch(/^f: name: expected a string, got 5$/);
    expect(messageOf(() => str('f: name', 'abcd', 3))).toBe(
      'f: name: expected at most 3 characters, got "4 characters"',
    );
    expect(messageOf(() => bool('f: b', 'yes'))).toMatch(/^f: b: expected true or false, got "yes"$/);
    expect(messageOf(() => num('f: n', Number.NaN))).toMatch(/^f: n: expected a finite number, got /);
    expect(messageOf(() => num('f: lr', 0, 0, 10, true))).toBe(
      'f: lr: expected a number above 0 and at most 10, got 0',
    );
    expect(messageOf(() => num('f: m', 101, 0, 100))).toBe('f: m: expected a number from 0 to 100, got 101');
    expect(messageOf(() => num('f: r', -1, 0))).toBe('f: r: expected a number from 0, got -1');
    expect(messageOf(() => int('f: steps', 1.5, 0, 9))).toBe(
      'f: steps: expected a whole number from 0 to 9, got 1.5',
    );
    expect(messageOf(() => oneOf('f: measure', 'dot', ['order', 'cosine']))).toBe(
      `f: measure: expected one of 'order', 'cosine', got "dot"`,
    );
    expect(messageOf(() => arr('f: list', {}, 3))).toMatch(/^f: list: expected an array, got /);
    expect(messageOf(() => arr('f: list', [1, 2, 3, 4], 3))).toBe(
      'f: list: expected at most 3 entries, got "4 entries"',
    );
    expect(messageOf(() => opt('x', (v) => int('f: o', v)))).toMatch(/^f: o: expected a whole number/);
    expect(messageOf(() => fail('f: k', 'something', null))).toBe('f: k: expected something, got null');
  });

  it('tell a plain object from null and arrays', () => {
    expect(isRec({})).toBe(true);
    expect(isRec(null)).toBe(false);
    expect(isRec([])).toBe(false);
    expect(isRec('a')).toBe(false);
  });

  it('are exported together as `field` for the validators of other records', () => {
    expect(field).toEqual({ rec, str, bool, num, int, oneOf, arr });
  });
});
