/**
 * Issue 18's measurement: how far is an IG map at n points from the integral, pixel by pixel, and how
 * well does a cheap estimate say so? For each photo, rule and n it computes
 *   true error  ‖A_n − A_ref‖₁ / ‖A_ref‖₁   against a Gauss–Legendre reference at --ref points, and
 *   estimate    ‖A_n − A_{n/2}‖₁ / ‖A_n‖₁   the same rule at half the points (the trapezoid at 2^k + 1
 *                                          points and (n + 1)/2; computed afresh here for every rule),
 * with the completeness error beside them. Prints one JSON line per case and a summary: the share of
 * cases whose estimate under-states the true error by more than 2× (the issue asks for ≤ 10%).
 *
 *   npm run build && node --import tsx scripts/convergence-study.ts [--model DIR] [--preprocess P]
 *     [--photos a.jpg,b.jpg] [--ns 8,16,32,64,128,256] [--ref 1024] [--methods gausslegendre,riemann-middle]
 */
import { fileURLToPath } from 'node:url';
import * as tf from '@tensorflow/tfjs-core';
import { computeIntegratedGradients, computeScores } from '../src/attribution/integrated-gradients.js';
import type { Method } from '../src/attribution/types.js';
import { parseExplainFlags } from '../src/config/explain-config.js';
import { closeExplainSession, openExplainSession } from '../src/explain/index.js';
import { prepareImage } from '../src/explain/prepare-image.js';

const IMAGES = fileURLToPath(new URL('../fixtures/images/', import.meta.url));
const PHOTOS = ['black_swan.jpg', 'cat.jpg', 'coffee_mug.jpg', 'dog.jpg', 'elephant.jpg', 'mountain.jpg', 'pizza.jpg', 'tabby_cat_224.jpg', 'doberman.png'];

function arg(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

const l1 = (a: Float32Array): number => a.reduce((s, v) => s + Math.abs(v), 0);
const l1Diff = (a: Float32Array, b: Float32Array): number => a.reduce((s, v, i) => s + Math.abs(v - (b[i] ?? 0)), 0);

const ns = (arg('--ns') ?? '8,16,32,64,128,256').split(',').map(Number);
const refSteps = Number(arg('--ref') ?? 1024);
const methods = (arg('--methods') ?? 'gausslegendre,riemann-middle,riemann-trapezoid').split(',') as Method[];
const photos = arg('--photos')?.split(',') ?? PHOTOS;
const modelDir = arg('--model');

const session = await openExplainSession(
  parseExplainFlags({ backend: 'wasm', out: '/tmp/igx-convergence-study', ...(modelDir ? { model: modelDir } : {}), ...(arg('--preprocess') ? { preprocess: arg('--preprocess') } : {}) }),
);
const forward = session.forward.forward;
const rows: Record<string, unknown>[] = [];
try {
  for (const photo of photos) {
    const prepared = await prepareImage(session, `${IMAGES}${photo}`);
    const input = tf.tensor4d(prepared.input, prepared.shape);
    const baseline = tf.tensor4d(prepared.baselineInputs[0] as Float32Array, prepared.shape);
    const scores = tf.tidy(() => Array.from(forward(input).dataSync()));
    const target = { kind: 'index', index: scores.indexOf(Math.max(...scores)) } as const;
    const problem = { forward, input, baselines: [baseline], target };
    const map = async (method: Method, steps: number): Promise<{ a: Float32Array; relativeError: number }> => {
      const r = await computeIntegratedGradients(problem, { method, steps, batchSize: session.batchSize });
      try {
        return { a: (await r.attributions.data()) as Float32Array, relativeError: r.completeness.relativeError };
      } finally {
        r.attributions.dispose();
      }
    };
    const ref = await map('gausslegendre', refSteps);
    const refCheck = await map('riemann-trapezoid', refSteps + 1);
    const refError = l1Diff(refCheck.a, ref.a) / l1(ref.a);
    const fDelta = computeScores(forward, input, target)[0]! - computeScores(forward, baseline, target)[0]!;
    for (const method of methods) {
      const maps = new Map<number, { a: Float32Array; relativeError: number }>();
      // The trapezoid's points nest at 2^k + 1 (9, 17, …): its n and coarser rule are one more than the others'.
      const isTrapezoid = method === 'riemann-trapezoid';
      const points = ns.map((n) => (isTrapezoid ? n + 1 : n));
      const coarser = (n: number): number => (isTrapezoid ? (n + 1) / 2 : n / 2);
      for (const n of [coarser(points[0]!), ...points]) maps.set(n, await map(method, n));
      for (const n of points) {
        const m = maps.get(n)!;
        const half = maps.get(coarser(n))!;
        const row = { photo, method, n, trueError: l1Diff(m.a, ref.a) / l1(ref.a), estimate: l1Diff(m.a, half.a) / l1(m.a), completeness: m.relativeError, refError, fDelta };
        rows.push(row);
        process.stdout.write(`${JSON.stringify(row)}\n`);
      }
    }
    tf.dispose([input, baseline]);
  }
} finally {
  closeExplainSession(session);
}

const under = rows.filter((r) => (r.estimate as number) < (r.trueError as number) / 2);
const completenessUnder = rows.filter((r) => (r.completeness as number) < (r.trueError as number) / 2);
process.stdout.write(
  `${JSON.stringify({ summary: true, cases: rows.length, estimateUnderByOver2x: under.length, completenessUnderByOver2x: completenessUnder.length, worst: under.map((r) => `${String(r.photo)} ${String(r.method)} ${String(r.n)}: true ${(r.trueError as number).toFixed(4)} est ${(r.estimate as number).toFixed(4)}`) })}\n`,
);
