/**
 * npm run -s forward -- <file.json>
 * Reads a GRU / LN-GRU case in the format of ../shared/testvectors/lngru.json and prints one JSON object
 * {"y", "h_n", "loss", "grads"} computed by the model core (wasm backend).
 */
import { readFileSync } from 'node:fs';
import { runGruVector, type GruVectorInput } from '../src/model/gru-vectors';
import { initNodeBackend } from './lib/node-backend';
import { parseCommand } from './cli/options';
import { FORWARD } from './cli/commands';

async function main(): Promise<void> {
  const { positionals } = parseCommand(FORWARD);
  const file = positionals[0];
  if (!file || positionals.length > 1) throw new Error('usage: npm run -s forward -- <file.json>');
  let input: GruVectorInput;
  try {
    input = JSON.parse(readFileSync(file, 'utf8')) as GruVectorInput;
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`);
  }
  await initNodeBackend((process.env.ORDEREMBED_BACKEND as 'wasm' | 'cpu' | undefined) ?? 'wasm');
  let out;
  try {
    out = runGruVector(input);
  } catch (e) {
    throw new Error(`${file}: ${(e as Error).message}`);
  }
  process.stdout.write(JSON.stringify(out) + '\n');
}

main().catch((e: unknown) => {
  process.stderr.write(`forward: ${(e as Error).message}\n`);
  process.exit(1);
});
