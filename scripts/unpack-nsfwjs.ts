/**
 * Unpacks the Keras models that the npm package nsfwjs 4.4.0 (MIT) ships as browserify bundles into
 * plain tfjs layers models: model.json + group1-shardXofN.bin.
 *
 *   npm pack nsfwjs@4.4.0 && tar xzf nsfwjs-4.4.0.tgz     # gives ./package
 *   node --import tsx scripts/unpack-nsfwjs.ts package fixtures/models
 *
 * writes OUT/nsfwjs_inception_v3/ and OUT/nsfwjs_mobilenet_v2/ (igx's igx.json sidecars are written by
 * hand, not by this script). In the package, dist/models/<name>/model.min.js is a UMD module whose
 * export is the model.json content as a JS object literal (`!1`, not JSON), and each
 * group1-shardXofN.min.js exports one weight shard as a base64 string. Each module runs in a node:vm
 * context holding only `module` and `exports` (no require, no process, a time limit), so the bundle
 * can read and write nothing. The only change to model.json: the manifest's paths gain `.bin`.
 * The decoded bytes must equal what the manifest's weightSpecs describe (quantized dtype if any).
 * Prints each written file's size and sha256.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import vm from 'node:vm';

const PACKAGE_VERSION = '4.4.0';
const MODELS = [
  { source: 'inception_v3', folder: 'nsfwjs_inception_v3' },
  { source: 'mobilenet_v2', folder: 'nsfwjs_mobilenet_v2' },
] as const;

/** Bytes per stored element; a quantized weight is stored in its quantization dtype. */
const BYTES_PER_ELEMENT: Record<string, number> = { float32: 4, int32: 4, bool: 1, uint8: 1, uint16: 2, float16: 2 };

interface WeightSpec {
  name: string;
  shape: number[];
  dtype: string;
  quantization?: { dtype: string };
}
interface ManifestGroup {
  paths: string[];
  weights: WeightSpec[];
}
interface ModelJson {
  modelTopology: Record<string, unknown>;
  weightsManifest: ManifestGroup[];
  [key: string]: unknown;
}

const say = (line: string): void => {
  process.stdout.write(`${line}\n`);
};

/** Runs one bundle with nothing in reach but `module`/`exports`, and returns what it exported. */
function evaluateModule(file: string): unknown {
  const sandbox = { module: { exports: {} as unknown }, exports: {} };
  sandbox.exports = sandbox.module.exports as object;
  const context = vm.createContext(sandbox, { codeGeneration: { strings: false, wasm: false } });
  vm.runInContext(readFileSync(file, 'utf8'), context, { filename: file, timeout: 30_000 });
  return sandbox.module.exports;
}

/** Objects from another vm context fail `instanceof Object`; a JSON round trip makes them plain data of this one. */
function readModelJson(file: string): ModelJson {
  const value = evaluateModule(file);
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new Error(`${file}: expected an object export, got ${typeof value}`);
  const json = JSON.parse(JSON.stringify(value)) as Record<string, unknown>;
  const topology = json.modelTopology;
  if (typeof topology !== 'object' || topology === null || !('model_config' in topology)) throw new Error(`${file}: expected modelTopology with model_config (a Keras layers model)`);
  const manifest = json.weightsManifest;
  if (!Array.isArray(manifest) || manifest.some((g: ManifestGroup) => !Array.isArray(g.paths) || !Array.isArray(g.weights))) {
    throw new Error(`${file}: expected weightsManifest: [{paths, weights}]`);
  }
  return json as ModelJson;
}

const BASE64 = /^[A-Za-z0-9+/]*={0,2}$/;

function readShard(file: string): Buffer {
  const value = evaluateModule(file);
  if (typeof value !== 'string') throw new Error(`${file}: expected a base64 string export, got ${typeof value}`);
  if (value.length % 4 !== 0 || !BASE64.test(value)) throw new Error(`${file}: the export is not base64 (${value.length} characters)`);
  return Buffer.from(value, 'base64');
}

function computeSpecBytes(spec: WeightSpec): number {
  const dtype = spec.quantization?.dtype ?? spec.dtype;
  const size = BYTES_PER_ELEMENT[dtype];
  if (size === undefined) throw new Error(`weight ${spec.name}: unexpected dtype ${dtype}`);
  return spec.shape.reduce((a, b) => a * b, 1) * size;
}

const sha256 = (bytes: Buffer | string): string => createHash('sha256').update(bytes).digest('hex');

/** Written under a temporary name and renamed, so a failed run leaves no half file. */
function writeFileAtomic(path: string, bytes: Buffer | string): void {
  writeFileSync(`${path}.tmp`, bytes);
  renameSync(`${path}.tmp`, path);
  say(`  ${path}  ${Buffer.byteLength(bytes)} bytes  sha256 ${sha256(bytes)}`);
}

function unpackModel(options: { sourceDir: string; outDir: string }): void {
  const { sourceDir, outDir } = options;
  const json = readModelJson(join(sourceDir, 'model.min.js'));
  const bundles = readdirSync(sourceDir).filter((f) => /^group\d+-shard\d+of\d+\.min\.js$/.test(f));
  const paths = json.weightsManifest.flatMap((g) => g.paths);
  const unused = bundles.filter((b) => !paths.includes(b.replace(/\.min\.js$/, '')));
  if (unused.length > 0) throw new Error(`${sourceDir}: shard bundles the manifest does not name: ${unused.join(', ')}`);
  const shards = paths.map((p) => ({ name: `${p}.bin`, bytes: readShard(join(sourceDir, `${p}.min.js`)) }));
  const expectedBytes = json.weightsManifest.flatMap((g) => g.weights).reduce((sum, spec) => sum + computeSpecBytes(spec), 0);
  const actualBytes = shards.reduce((sum, s) => sum + s.bytes.length, 0);
  if (actualBytes !== expectedBytes) throw new Error(`${sourceDir}: the shards hold ${actualBytes} bytes, the weightSpecs describe ${expectedBytes}`);
  const keras = String(json.modelTopology.keras_version ?? 'unknown');
  say(`${sourceDir}: Keras ${keras}, ${shards.length} shard(s), ${actualBytes} weight bytes (= weightSpecs)`);
  const weightsManifest = json.weightsManifest.map((g) => ({ ...g, paths: g.paths.map((p) => `${p}.bin`) }));
  mkdirSync(outDir, { recursive: true });
  for (const s of shards) writeFileAtomic(join(outDir, s.name), s.bytes);
  writeFileAtomic(join(outDir, 'model.json'), `${JSON.stringify({ ...json, weightsManifest })}\n`);
}

function main(argv: string[]): void {
  const [packageDir, outRoot] = argv;
  if (packageDir === undefined || outRoot === undefined) {
    throw new Error('usage: node --import tsx scripts/unpack-nsfwjs.ts <nsfwjs package dir> <out models dir>');
  }
  const pkg = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { name?: string; version?: string };
  if (pkg.name !== 'nsfwjs' || pkg.version !== PACKAGE_VERSION) {
    throw new Error(`${packageDir}: expected nsfwjs ${PACKAGE_VERSION}, found ${String(pkg.name)} ${String(pkg.version)}`);
  }
  for (const m of MODELS) unpackModel({ sourceDir: join(packageDir, 'dist', 'models', m.source), outDir: join(outRoot, m.folder) });
}

try {
  main(process.argv.slice(2));
} catch (error) {
  process.stderr.write(`unpack-nsfwjs: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exitCode = 1;
}
