/** The helper and the options several commands share: `--backend`, `--json`, `--threads`. */
import { oneOf, opt, positiveInt, type Command, type Options } from '../options';

export const command = <O extends Options>(c: Command<O>): Command<O> => c;

const BACKENDS = ['wasm', 'cpu'] as const;
export const backend = opt({
  type: 'string',
  value: 'wasm|cpu',
  help: 'tfjs backend in Node',
  default: 'wasm',
  check: oneOf(BACKENDS),
});
export const json = opt({ type: 'boolean', help: 'progress on stderr; the last line of stdout is JSON' });
export const threads = opt({
  type: 'number',
  value: 'N',
  help: 'threads of a training step: the batch in N shards over worker_threads; the same N gives the same digits; 1: none',
  defaultText: 'the number of cores',
  check: positiveInt,
});
