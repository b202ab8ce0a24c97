import { RUN_FILES, shardManifestName } from './run-layout.js';
import { readFile } from 'node:fs/promises';
import { z } from 'zod';
import { IgxError } from '../errors.js';
import { writeFileAtomic } from '../files/atomic-write.js';

export const MANIFEST_SCHEMA_VERSION = 1;
export const MANIFEST_NAME = RUN_FILES.manifest;
/** Shards that share an --out folder must not overwrite each other's manifest. */
export { shardManifestName };

export const ManifestRowSchema = z.strictObject({
  /** The input as it was opened. */
  path: z.string(),
  /** Its path below the run root: outputs mirror it, shards hash it, merges key on it. */
  relPath: z.string(),
  sha256: z.string().nullable(),
  status: z.enum(['ok', 'failed', 'skipped']),
  /** ok, or skipped because --resume found it done: the report, relative to the manifest's folder. */
  report: z.string().nullable(),
  /** Why a row was skipped: 'not an image', or 'resumed'. */
  reason: z.string().nullable(),
  error: z.strictObject({ code: z.string(), message: z.string() }).nullable(),
});
export type ManifestRow = z.infer<typeof ManifestRowSchema>;

export const ManifestSchema = z.strictObject({
  schemaVersion: z.literal(MANIFEST_SCHEMA_VERSION),
  igxVersion: z.string(),
  model: z.strictObject({ path: z.string(), format: z.string(), sha256: z.string() }),
  /** The full normalised explain config, and the hash of the part that decides outputs (reports carry it too). */
  config: z.record(z.string(), z.unknown()),
  configHash: z.string(),
  runRoot: z.string(),
  shard: z.strictObject({ index: z.number().int(), count: z.number().int() }).nullable(),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  /** running: still going or killed; interrupted: stopped by a signal; finished: every input has its row. */
  status: z.enum(['running', 'interrupted', 'finished']),
  counts: z.strictObject({ ok: z.number().int(), failed: z.number().int(), skipped: z.number().int() }),
  rows: z.array(ManifestRowSchema),
});
export type Manifest = z.infer<typeof ManifestSchema>;

export function computeCounts(rows: ManifestRow[]): Manifest['counts'] {
  const counts = { ok: 0, failed: 0, skipped: 0 };
  for (const r of rows) counts[r.status] += 1;
  return counts;
}

export async function readManifest(path: string): Promise<Manifest> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (err) {
    throw new IgxError('E_CONFIG', `cannot read run manifest '${path}': ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new IgxError('E_CONFIG', `run manifest '${path}' is not valid JSON`);
  }
  const parsed = ManifestSchema.safeParse(json);
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new IgxError('E_CONFIG', `run manifest '${path}': ${issue?.path.join('.') || '(root)'}: ${issue?.message}`);
  }
  return parsed.data;
}

export async function writeManifest(path: string, manifest: Manifest): Promise<void> {
  await writeFileAtomic(path, `${JSON.stringify(manifest, null, 2)}\n`);
}

/**
 * Keeps a run's manifest on disk as the run goes: rewritten atomically after changes, at most once per
 * interval, so a killed run still has an accurate list of what finished.
 */
export class ManifestWriter {
  private dirty = false;
  private lastWriteMs = 0;
  private writing: Promise<void> = Promise.resolve();

  constructor(
    readonly path: string,
    readonly manifest: Manifest,
    private readonly intervalMs = 500,
  ) {}

  add(row: ManifestRow): Promise<void> {
    this.manifest.rows.push(row);
    this.manifest.counts = computeCounts(this.manifest.rows);
    this.dirty = true;
    return Date.now() - this.lastWriteMs >= this.intervalMs ? this.flush() : Promise.resolve();
  }

  flush(): Promise<void> {
    this.writing = this.writing.then(async () => {
      if (!this.dirty && this.lastWriteMs > 0) return;
      this.dirty = false;
      this.lastWriteMs = Date.now();
      await writeManifest(this.path, this.manifest);
    });
    return this.writing;
  }

  async finish(status: Manifest['status']): Promise<void> {
    this.manifest.status = status;
    this.manifest.finishedAt = new Date().toISOString();
    this.dirty = true;
    await this.flush();
  }
}
