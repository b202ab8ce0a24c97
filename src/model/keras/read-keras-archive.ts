/**
 * Reads a Keras 3 `.keras` file: a zip of metadata.json, config.json and model.weights.h5 (Keras'
 * saving_lib writes it uncompressed). Only those entries are read, by exact name, in memory; nothing is
 * extracted to disk, so entry names never become paths.
 */
import { unzipSync, type UnzipFileInfo } from 'fflate';
import { IgxError } from '../../errors.js';

export const CONFIG_ENTRY = 'config.json';
export const METADATA_ENTRY = 'metadata.json';
export const WEIGHTS_ENTRY = 'model.weights.h5';

/** Refuse JSON entries larger than this (a real config.json is a few MB at most). */
export const MAX_JSON_BYTES = 64 * 1024 * 1024;
/** Refuse a weights entry whose declared size is larger than this (also what a JS buffer can hold). */
export const MAX_WEIGHTS_BYTES = 2 * 1024 * 1024 * 1024 - 1;

export interface KerasArchive {
  config: unknown;
  metadata: Record<string, unknown>;
  weights: Uint8Array;
}

function parseJsonEntry(bytes: Uint8Array | undefined, name: string, file: string): unknown {
  if (bytes === undefined) return undefined;
  try {
    return JSON.parse(new TextDecoder().decode(bytes));
  } catch (err) {
    throw new IgxError('E_MODEL_INVALID', `${file}: ${name} is not valid JSON (${(err as Error).message})`, { cause: err });
  }
}

function checkEntry(info: UnzipFileInfo, file: string): boolean {
  const cap = info.name === WEIGHTS_ENTRY ? MAX_WEIGHTS_BYTES : MAX_JSON_BYTES;
  if (info.originalSize > cap) {
    throw new IgxError('E_MODEL_INVALID', `${file}: zip entry ${info.name} declares ${info.originalSize} bytes, more than the ${cap} igx reads`);
  }
  return true;
}

/** E_MODEL_INVALID for a damaged zip, a missing entry or an oversized one. */
export function readKerasArchive(bytes: Uint8Array, file: string): KerasArchive {
  const wanted = new Set([CONFIG_ENTRY, METADATA_ENTRY, WEIGHTS_ENTRY]);
  let entries: Record<string, Uint8Array>;
  try {
    entries = unzipSync(bytes, { filter: (info) => wanted.has(info.name) && checkEntry(info, file) });
  } catch (err) {
    if (err instanceof IgxError) throw err;
    throw new IgxError('E_MODEL_INVALID', `${file}: not a readable .keras zip (${(err as Error).message}); the file may be truncated`, { cause: err });
  }
  const config = parseJsonEntry(entries[CONFIG_ENTRY], CONFIG_ENTRY, file);
  if (config === undefined) throw new IgxError('E_MODEL_INVALID', `${file}: the .keras zip has no ${CONFIG_ENTRY}`);
  const weights = entries[WEIGHTS_ENTRY];
  if (weights === undefined) {
    throw new IgxError('E_MODEL_INVALID', `${file}: the .keras zip has no ${WEIGHTS_ENTRY} (sharded or .npz weights are not supported)`);
  }
  const metadata = parseJsonEntry(entries[METADATA_ENTRY], METADATA_ENTRY, file);
  return { config, metadata: typeof metadata === 'object' && metadata !== null ? (metadata as Record<string, unknown>) : {}, weights };
}
