import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

/** Debian's interpreter, where `apt-get install python3-torch` puts torch (not a pyenv shim). */
export const PYTHON = '/usr/bin/python3';

/** Whether Debian's python3-torch is installed here. */
export const hasTorch: boolean = spawnSync(PYTHON, ['-c', 'import torch'], { stdio: 'ignore' }).status === 0;

/**
 * The title suffix that says why a torch test may be skipped. Each spec picks its `it` as
 * `hasTorch || process.env.CI ? it : it.skip`: CI installs python3-torch, so there a missing
 * torch fails the test instead of skipping it.
 */
export const NEEDS_TORCH = '(needs python3-torch; CI installs it)';

/** What torch-teachers.py writes beside the models: inputs and torch's own probabilities. */
export interface TorchGolden {
  readonly features: number;
  readonly classes: number;
  /** 5 inputs, row-major. */
  readonly x: number[];
  /** Per model: class probabilities at temperature 1 and 2, row-major [5, classes]. */
  readonly models: Record<string, { t1: number[]; t2: number[] }>;
}

/**
 * Exports the tiny torch MLP teachers of torch-teachers.py into `dir` (a.onnx, b.onnx,
 * probs.onnx, fixed1.onnx, two-outputs.onnx, batch-bound.onnx) and returns torch's outputs.
 */
export function exportTorchTeachers(dir: string, features: number, classes: number): TorchGolden {
  const script = path.join(__dirname, 'torch-teachers.py');
  const run = spawnSync(PYTHON, [script, dir, String(features), String(classes)], { encoding: 'utf8' });
  if (run.status !== 0)
    throw new Error(`${PYTHON} ${script} failed (is python3-torch installed?):\n${run.stderr}`);
  return JSON.parse(fs.readFileSync(path.join(dir, 'golden.json'), 'utf8')) as TorchGolden;
}
