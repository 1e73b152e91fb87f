/** The run-log reader behind `npm run plot`: compare logs as they are, train logs named by their folder. */
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readLog } from '../../../scripts/lib/run-log';

const dev = {
  i2t: { r1: 10, r5: 20, r10: 30, medr: 5, meanr: 9 },
  t2i: { r1: 8, r5: 18, r10: 28, medr: 6, meanr: 11 },
  rsum: 114,
};

describe('readLog', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'run-log-'));

  it('reads a compare log unchanged', () => {
    const file = path.join(dir, 'compare.jsonl');
    const line = { run: 'ln-order', step: 100, epoch: 1, trainSeconds: 12.5, loss: 3, dev };
    writeFileSync(file, JSON.stringify(line) + '\n');
    expect(readLog(file)).toEqual([line]);
  });

  it('reads a train log (run folder log.jsonl): named after its folder, lines without dev skipped', () => {
    mkdirSync(path.join(dir, 'ln-drop10'));
    const file = path.join(dir, 'ln-drop10', 'log.jsonl');
    const lines = [
      { step: 50, epoch: 0, seconds: 60, loss: 9 },
      { step: 100, epoch: 0, seconds: 120, loss: 7, dev },
    ];
    writeFileSync(file, lines.map((l) => JSON.stringify(l)).join('\n') + '\n');
    expect(readLog(file)).toEqual([
      { run: 'ln-drop10', step: 100, epoch: 0, seconds: 120, trainSeconds: 120, loss: 7, dev },
    ]);
  });

  it('names the file and line of a line it cannot read, and a log without evaluations', () => {
    const bad = path.join(dir, 'bad.jsonl');
    writeFileSync(bad, JSON.stringify({ step: 1, seconds: 1, loss: 1, dev }) + '\n{oops\n');
    expect(() => readLog(bad)).toThrow(`${bad}:2: not a JSON line`);
    const odd = path.join(dir, 'odd.jsonl');
    writeFileSync(odd, JSON.stringify({ hello: 1 }) + '\n');
    expect(() => readLog(odd)).toThrow(`${odd}:1: neither a compare line`);
    const empty = path.join(dir, 'empty.jsonl');
    writeFileSync(empty, JSON.stringify({ step: 1, seconds: 1, loss: 1 }) + '\n');
    expect(() => readLog(empty)).toThrow(`${empty}: no evaluations logged`);
  });
});
