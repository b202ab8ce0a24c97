/**
 * `--model PATH` → the model JSON to read: a .json file, or a folder holding model.json or exactly one
 * JSON file that looks like a TensorFlow.js model (modelTopology / format).
 */
import { readdir, readFile, stat } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { IgxError } from '../errors.js';
import { looksLikeModelJson } from './model-json.js';
import { SIDECAR_FILE } from './sidecar-file.js';

export async function resolveModelJsonPath(given: string): Promise<string> {
  const path = resolve(given);
  let isDir: boolean;
  try {
    isDir = (await stat(path)).isDirectory();
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new IgxError(
      'E_MODEL_NOT_FOUND',
      code === 'ENOENT' ? `--model ${given}: no such file or folder (${path})` : `--model ${given}: cannot be read (${code ?? (err as Error).message})`,
      { cause: err },
    );
  }
  if (!isDir) return path;

  const standard = join(path, 'model.json');
  try {
    if ((await stat(standard)).isFile()) return standard;
  } catch {
    // no model.json: look for another model JSON
  }
  const names = (await readdir(path)).filter((n) => n.toLowerCase().endsWith('.json') && n !== SIDECAR_FILE).sort();
  const candidates: string[] = [];
  for (const name of names) {
    const file = join(path, name);
    try {
      if (!(await stat(file)).isFile()) continue;
      if (looksLikeModelJson(JSON.parse(await readFile(file, 'utf8')))) candidates.push(file);
    } catch {
      // unreadable or not JSON: not a candidate
    }
  }
  if (candidates.length === 1 && candidates[0] !== undefined) return candidates[0];
  if (candidates.length === 0) {
    throw new IgxError(
      'E_MODEL_NOT_FOUND',
      `--model ${given}: the folder has no model.json and no other JSON file with modelTopology/format` +
        (names.length > 0 ? ` (JSON files seen: ${names.join(', ')})` : ''),
    );
  }
  throw new IgxError(
    'E_MODEL_NOT_FOUND',
    `--model ${given}: the folder has no model.json and ${candidates.length} model JSON files (${candidates
      .map((c) => c.slice(path.length + 1))
      .join(', ')}); pass the one to use`,
  );
}
