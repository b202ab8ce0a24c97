/** `igx merge`: join the manifests of a run's shards (or of several runs of one config) into one. */
import { isShardManifestName } from '../report/run-layout.js';
import { readdir } from 'node:fs/promises';
import { join, relative, resolve } from 'node:path';
import { IgxError } from '../errors.js';
import { computeCounts, MANIFEST_NAME, readManifest, writeManifest, type Manifest, type ManifestRow } from '../report/manifest.js';

const isManifestName = (name: string): boolean => name === MANIFEST_NAME || isShardManifestName(name);

export interface MergeResult {
  path: string;
  manifest: Manifest;
  sources: string[];
}

/** Pure: rows keyed by relPath; the same input in two manifests is an error, a shard set must be whole. */
export function buildMergedManifest(parts: { file: string; dir: string; manifest: Manifest }[], outDir: string): Manifest {
  const first = parts[0];
  if (!first) throw new IgxError('E_CONFIG', 'igx merge: no igx-run*.json manifest found in the given folders');
  for (const p of parts) {
    if (p.manifest.configHash !== first.manifest.configHash) {
      throw new IgxError('E_CONFIG', `igx merge: ${p.file} has config hash ${p.manifest.configHash.slice(0, 12)}…, ${first.file} has ${first.manifest.configHash.slice(0, 12)}…: runs of different configs or models cannot be merged`);
    }
  }
  const shardCounts = new Set(parts.map((p) => p.manifest.shard?.count ?? 0));
  if (shardCounts.size === 1 && !shardCounts.has(0)) {
    const count = first.manifest.shard!.count;
    const have = new Set(parts.map((p) => p.manifest.shard!.index));
    const missing = Array.from({ length: count }, (_, i) => i + 1).filter((i) => !have.has(i));
    if (missing.length > 0) throw new IgxError('E_CONFIG', `igx merge: shard${missing.length > 1 ? 's' : ''} ${missing.map((i) => `${i}/${count}`).join(', ')} missing`);
  }
  const rows = new Map<string, ManifestRow>();
  for (const p of parts) {
    for (const row of p.manifest.rows) {
      if (rows.has(row.relPath)) throw new IgxError('E_CONFIG', `igx merge: input '${row.relPath}' appears in two manifests (${p.file} and another)`);
      // Report paths are relative to their manifest's folder; rebase them onto the merged one's.
      const report = row.report === null ? null : relative(outDir, join(p.dir, row.report)).split('\\').join('/');
      rows.set(row.relPath, { ...row, report });
    }
  }
  const merged = [...rows.values()].sort((a, b) => (a.relPath < b.relPath ? -1 : a.relPath > b.relPath ? 1 : 0));
  const statuses = parts.map((p) => p.manifest.status);
  return {
    ...first.manifest,
    shard: null,
    startedAt: parts.map((p) => p.manifest.startedAt).sort()[0]!,
    finishedAt: statuses.every((s) => s === 'finished') ? parts.map((p) => p.manifest.finishedAt ?? '').sort().at(-1)! : null,
    status: statuses.every((s) => s === 'finished') ? 'finished' : statuses.includes('interrupted') ? 'interrupted' : 'running',
    counts: computeCounts(merged),
    rows: merged,
  };
}

export async function mergeRuns(dirs: string[], outDir: string = dirs[0] ?? '.'): Promise<MergeResult> {
  const parts: { file: string; dir: string; manifest: Manifest }[] = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = await readdir(dir);
    } catch (err) {
      throw new IgxError('E_CONFIG', `igx merge: cannot read folder '${dir}': ${(err as NodeJS.ErrnoException).code ?? String(err)}`);
    }
    const manifests = names.filter(isManifestName).sort();
    // A folder holding shard manifests and an earlier merge: the shards are the source of truth.
    const sources = manifests.some((n) => n !== MANIFEST_NAME) ? manifests.filter((n) => n !== MANIFEST_NAME) : manifests;
    for (const name of sources) parts.push({ file: join(dir, name), dir: resolve(dir), manifest: await readManifest(join(dir, name)) });
  }
  const manifest = buildMergedManifest(parts, resolve(outDir));
  const path = join(outDir, MANIFEST_NAME);
  await writeManifest(path, manifest);
  return { path, manifest, sources: parts.map((p) => p.file) };
}
