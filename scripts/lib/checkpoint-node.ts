/**
 * Training checkpoints in a run folder on disk (train --out writes them, train --resume reads them):
 * `checkpoint.json` (src/model/checkpoint.ts, plus `tensorsFile` and the `resume` options of the CLI)
 * and the tensors file it names, `checkpoint-<step>.bin`. A new checkpoint is written beside the old
 * one and made current by renaming checkpoint.json over the old one, so an interrupted write leaves the
 * previous checkpoint whole; the old tensors file is removed afterwards.
 */
import { existsSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import {
  CHECKPOINT_FILES,
  checkpointToFiles,
  validateCheckpoint,
  type TrainerCheckpoint,
} from '../../src/model/checkpoint';

/** What the CLI needs to go on besides the trainer: the run's length, cadence and time so far. */
export interface ResumeOptions {
  /** Total steps of the run. */
  steps: number;
  evalEvery: number;
  logEvery: number;
  evalImages?: number;
  /** Seconds of training (evaluations excluded) up to the checkpoint. */
  trainSeconds: number;
}

const TENSORS_NAME = /^checkpoint-\d+\.bin$/;

/** Writes the checkpoint of `dir` (created by --out) and makes it current. */
export function writeCheckpointFolder(dir: string, cp: TrainerCheckpoint, resume: ResumeOptions): void {
  const files = checkpointToFiles(cp);
  const state = JSON.parse(files[CHECKPOINT_FILES.state] as string) as Record<string, unknown>;
  const statePath = path.join(dir, CHECKPOINT_FILES.state);
  const previous = existsSync(statePath) ? currentTensorsFile(statePath) : undefined;
  const tensorsFile = `checkpoint-${String(cp.steps).padStart(7, '0')}.bin`;
  writeFileSync(path.join(dir, tensorsFile), new Uint8Array(files[CHECKPOINT_FILES.tensors] as ArrayBuffer));
  writeFileSync(`${statePath}.tmp`, JSON.stringify({ ...state, tensorsFile, resume }) + '\n');
  renameSync(`${statePath}.tmp`, statePath);
  if (previous && previous !== tensorsFile) rmSync(path.join(dir, previous), { force: true });
}

function currentTensorsFile(statePath: string): string | undefined {
  try {
    const name = (JSON.parse(readFileSync(statePath, 'utf8')) as { tensorsFile?: unknown }).tensorsFile;
    return typeof name === 'string' && TENSORS_NAME.test(name) ? name : undefined;
  } catch {
    return undefined;
  }
}

/** The checkpoint of a run folder, validated before any tensor is allocated, and its resume options. */
export function readCheckpointFolder(dir: string): { checkpoint: TrainerCheckpoint; resume: ResumeOptions } {
  const statePath = path.join(dir, CHECKPOINT_FILES.state);
  if (!existsSync(statePath))
    throw new Error(
      `--resume ${dir}: no ${CHECKPOINT_FILES.state} (a run folder written by train --out has one)`,
    );
  let state: Record<string, unknown>;
  try {
    state = JSON.parse(readFileSync(statePath, 'utf8')) as Record<string, unknown>;
  } catch {
    throw new Error(`${statePath}: not valid JSON`);
  }
  const name = state.tensorsFile;
  if (typeof name !== 'string' || !TENSORS_NAME.test(name))
    throw new Error(`${statePath}: tensorsFile: expected checkpoint-<step>.bin, got ${JSON.stringify(name)}`);
  const binPath = path.join(dir, name);
  if (!existsSync(binPath))
    throw new Error(`--resume ${dir}: ${name} (named by ${CHECKPOINT_FILES.state}) is missing`);
  const checkpoint = validateCheckpoint(state, readFileSync(binPath), statePath);
  const r = (state.resume ?? {}) as Record<string, unknown>;
  const count = (k: string, v: unknown, min: number): number => {
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min)
      throw new Error(
        `${statePath}: resume.${k}: expected a whole number from ${min}, got ${JSON.stringify(v)}`,
      );
    return v;
  };
  const resume: ResumeOptions = {
    steps: count('steps', r.steps, 1),
    evalEvery: count('evalEvery', r.evalEvery, 1),
    logEvery: count('logEvery', r.logEvery, 1),
    evalImages: r.evalImages === undefined ? undefined : count('evalImages', r.evalImages, 1),
    trainSeconds: typeof r.trainSeconds === 'number' && r.trainSeconds >= 0 ? r.trainSeconds : 0,
  };
  return { checkpoint, resume };
}
