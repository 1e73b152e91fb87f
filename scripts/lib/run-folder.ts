/** A trained model's run folder on disk (the files of src/model/export.ts): write one, read one. */
import { existsSync, readFileSync } from 'node:fs';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { RUN_FILES, type RunFiles } from '../../src/model/export';
import { isDir } from './flickr-folder';

/** Writes a run's files into a folder (created if needed). */
export async function writeRunFolder(dir: string, files: RunFiles): Promise<void> {
  await mkdir(dir, { recursive: true });
  for (const [name, content] of Object.entries(files))
    await writeFile(path.join(dir, name), typeof content === 'string' ? content : new Uint8Array(content));
}

/** Reads a run folder's files (config.json, weights.bin, weights.json, metrics.json when present). */
export function readRunFolder(dir: string): Record<string, string | Uint8Array> {
  if (!isDir(dir)) throw new Error(`--model ${dir}: no such folder`);
  const files: Record<string, string | Uint8Array> = {};
  for (const name of Object.values(RUN_FILES)) {
    const p = path.join(dir, name);
    if (!existsSync(p)) continue;
    files[name] = name.endsWith('.bin') ? readFileSync(p) : readFileSync(p, 'utf8');
  }
  return files;
}
