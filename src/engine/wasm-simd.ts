/**
 * A few element-wise gradient loops in WebAssembly SIMD, run directly on the wasm backend's heap.
 *
 * JavaScript manages about 1 ns per element for these loops, the same as the chains of wasm kernels
 * they replace; 4-wide SIMD does several times better, and the loops run over every activation of a
 * network on every step. The module is assembled here from its bytes (a handful of instructions, no
 * toolchain needed) and instantiated against the backend's own WebAssembly.Memory, so it reads and
 * writes tensors in place. Where that is impossible (no SIMD, a shared or hidden memory) `simdFor`
 * returns undefined and callers use their JavaScript loops.
 */
import type { BackendWasm } from './wasm-heap.js';

/**
 * Positional parameters here, unlike elsewhere in igx: they are the wasm exports' own signatures
 * (pointers and byte counts), called once per kernel on the hot path.
 */
export interface SimdLoops {
  /**
   * out = dy * (lo <= x <= hi ? 1 : 0) over `bytes` bytes (a multiple of 16); returns whether any x
   * was NaN. Exclusive bounds are expressed with nextUp/nextDown.
   */
  masked(out: number, dy: number, x: number, bytes: number, lo: number, hi: number): boolean;
  /** out = x > 0 ? dy : dy * alpha. */
  leaky(out: number, dy: number, x: number, bytes: number, alpha: number): void;
  /** out[i] = dy[i] * factor[i mod C], with the row of C floats `channelBytes` long (a multiple of 16). */
  scaleChannels(out: number, dy: number, factor: number, bytes: number, channelBytes: number): void;
  /** out[i] = x[i] * factor[i mod C] + shift[i mod C] (same layout rules as scaleChannels). */
  scaleShiftChannels(out: number, x: number, factor: number, shift: number, bytes: number, channelBytes: number): void;
}

// --- a minimal WebAssembly assembler ---------------------------------------------------------------

const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) {
      out.push(byte);
      return out;
    }
    out.push(byte | 0x80);
  }
}

const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const str = (s: string): number[] => vec([...s].map((ch) => [ch.charCodeAt(0)]));
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];

// Instructions.
const get = (i: number) => [0x20, ...uleb(i)];
const set = (i: number) => [0x21, ...uleb(i)];
const tee = (i: number) => [0x22, ...uleb(i)];
const i32c = (v: number) => [0x41, ...sleb(v)];
const I32_ADD = [0x6a];
const I32_EQ = [0x46];
const I32_GE_U = [0x4f];
const SELECT = [0x1b];
const simd = (op: number, ...imm: number[]) => [0xfd, ...uleb(op), ...imm];
const MEMARG = [4, 0]; // align 2^4, offset 0
const V_LOAD = simd(0x00, ...MEMARG);
const V_STORE = simd(0x0b, ...MEMARG);
const F32X4_SPLAT = simd(0x13);
const F32X4_NE = simd(0x42);
const F32X4_GT = simd(0x44);
const F32X4_LE = simd(0x45);
const F32X4_GE = simd(0x46);
const V_AND = simd(0x4e);
const V_OR = simd(0x50);
const V_BITSELECT = simd(0x52);
const V_ANY_TRUE = simd(0x53);
const F32X4_ADD = simd(0xe4);
const F32X4_MUL = simd(0xe6);
const f32c = (v: number) => {
  const b = new Uint8Array(new Float32Array([v]).buffer);
  return [0x43, ...b];
};

/** `for (i = 0; i < bytes; i += 16) body` with i in local `i` and `bytes` in local `n`. */
function loop16(i: number, n: number, body: number[]): number[] {
  return [
    0x02, 0x40, // block
    0x03, 0x40, // loop
    ...get(i), ...get(n), ...I32_GE_U, 0x0d, 1, // br_if 1 (exit)
    ...body,
    ...get(i), ...i32c(16), ...I32_ADD, ...set(i),
    0x0c, 0, // br 0
    0x0b, 0x0b, // end loop, end block
  ];
}

const at = (base: number, i: number) => [...get(base), ...get(i), ...I32_ADD];

interface Fn {
  name: string;
  params: number[];
  results: number[];
  locals: number[]; // one entry per local, after the params
  body: number[];
}

// masked(out, dy, x, bytes, lo, hi) -> i32
const masked: Fn = (() => {
  const [out, dy, x, n, lo, hi, i, xv, loV, hiV, nan, one] = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11];
  return {
    name: 'masked',
    params: [I32, I32, I32, I32, F32, F32],
    results: [I32],
    locals: [I32, V128, V128, V128, V128, V128],
    body: [
      ...get(lo), ...F32X4_SPLAT, ...set(loV),
      ...get(hi), ...F32X4_SPLAT, ...set(hiV),
      ...f32c(1), ...F32X4_SPLAT, ...set(one),
      ...loop16(i, n, [
        ...at(out, i),
        ...at(dy, i), ...V_LOAD,
        ...at(x, i), ...V_LOAD, ...tee(xv), ...get(loV), ...F32X4_GE,
        ...get(xv), ...get(hiV), ...F32X4_LE,
        ...V_AND, ...get(one), ...V_AND, // 1.0f where inside, +0.0f elsewhere
        ...F32X4_MUL, // dy * mask, so NaN/inf dy behave as in tfjs's mul
        ...V_STORE,
        ...get(nan), ...get(xv), ...get(xv), ...F32X4_NE, ...V_OR, ...set(nan),
      ]),
      ...get(nan), ...V_ANY_TRUE,
    ],
  };
})();

// leaky(out, dy, x, bytes, alpha)
const leaky: Fn = (() => {
  const [out, dy, x, n, alpha, i, d, aV, zero] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  return {
    name: 'leaky',
    params: [I32, I32, I32, I32, F32],
    results: [],
    locals: [I32, V128, V128, V128],
    body: [
      ...get(alpha), ...F32X4_SPLAT, ...set(aV),
      ...f32c(0), ...F32X4_SPLAT, ...set(zero),
      ...loop16(i, n, [
        ...at(out, i),
        ...at(dy, i), ...V_LOAD, ...tee(d),
        ...get(d), ...get(aV), ...F32X4_MUL,
        ...at(x, i), ...V_LOAD, ...get(zero), ...F32X4_GT,
        ...V_BITSELECT,
        ...V_STORE,
      ]),
    ],
  };
})();

// scaleChannels(out, dy, factor, bytes, channelBytes)
const scaleChannels: Fn = (() => {
  const [out, dy, factor, n, cb, i, j] = [0, 1, 2, 3, 4, 5, 6];
  return {
    name: 'scaleChannels',
    params: [I32, I32, I32, I32, I32],
    results: [],
    locals: [I32, I32],
    body: loop16(i, n, [
      ...at(out, i),
      ...at(dy, i), ...V_LOAD,
      ...at(factor, j), ...V_LOAD,
      ...F32X4_MUL,
      ...V_STORE,
      // j = (j + 16 == channelBytes) ? 0 : j + 16
      ...i32c(0), ...get(j), ...i32c(16), ...I32_ADD, ...tee(j), ...get(j), ...get(cb), ...I32_EQ, ...SELECT,
      ...set(j),
    ]),
  };
})();

// scaleShiftChannels(out, x, factor, shift, bytes, channelBytes)
const scaleShiftChannels: Fn = (() => {
  const [out, x, factor, shift, n, cb, i, j] = [0, 1, 2, 3, 4, 5, 6, 7];
  return {
    name: 'scaleShiftChannels',
    params: [I32, I32, I32, I32, I32, I32],
    results: [],
    locals: [I32, I32],
    body: loop16(i, n, [
      ...at(out, i),
      ...at(x, i), ...V_LOAD,
      ...at(factor, j), ...V_LOAD,
      ...F32X4_MUL,
      ...at(shift, j), ...V_LOAD,
      ...F32X4_ADD,
      ...V_STORE,
      ...i32c(0), ...get(j), ...i32c(16), ...I32_ADD, ...tee(j), ...get(j), ...get(cb), ...I32_EQ, ...SELECT,
      ...set(j),
    ]),
  };
})();

function assemble(fns: Fn[]): Uint8Array<ArrayBuffer> {
  const types = fns.map((f) => [0x60, ...vec(f.params.map((p) => [p])), ...vec(f.results.map((r) => [r]))]);
  const imports = [[...str('env'), ...str('memory'), 0x02, 0x00, ...uleb(1)]]; // memory, min 1 page
  const funcs = fns.map((_, k) => uleb(k));
  const exports = fns.map((f, k) => [...str(f.name), 0x00, ...uleb(k)]);
  const bodies = fns.map((f) => {
    const locals = vec(f.locals.map((t) => [1, t]));
    const body = [...locals, ...f.body, 0x0b];
    return [...uleb(body.length), ...body];
  });
  return new Uint8Array([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(types)),
    ...section(2, vec(imports)),
    ...section(3, vec(funcs)),
    ...section(7, vec(exports)),
    ...section(10, vec(bodies)),
  ]);
}

const BYTES = assemble([masked, leaky, scaleChannels, scaleShiftChannels]);

const instances = new WeakMap<BackendWasm, SimdLoops | null>();

/** The SIMD loops bound to this backend's memory, or undefined where they cannot run. */
export function simdFor(backend: BackendWasm): SimdLoops | undefined {
  let loops = instances.get(backend);
  if (loops === undefined) {
    loops = instantiate(backend);
    instances.set(backend, loops);
  }
  return loops ?? undefined;
}

function instantiate(backend: BackendWasm): SimdLoops | null {
  const memory = (backend.wasm as { asm?: { memory?: unknown } }).asm?.memory;
  if (!(memory instanceof WebAssembly.Memory) || !WebAssembly.validate(BYTES)) return null;
  if (typeof SharedArrayBuffer !== 'undefined' && memory.buffer instanceof SharedArrayBuffer) return null;
  try {
    const instance = new WebAssembly.Instance(new WebAssembly.Module(BYTES), { env: { memory } });
    const e = instance.exports as {
      masked: (...a: number[]) => number;
      leaky: (...a: number[]) => void;
      scaleChannels: (...a: number[]) => void;
      scaleShiftChannels: (...a: number[]) => void;
    };
    return {
      masked: (out, dy, x, bytes, lo, hi) => e.masked(out, dy, x, bytes, lo, hi) !== 0,
      leaky: (out, dy, x, bytes, alpha) => e.leaky(out, dy, x, bytes, alpha),
      scaleChannels: (out, dy, factor, bytes, channelBytes) => e.scaleChannels(out, dy, factor, bytes, channelBytes),
      scaleShiftChannels: (out, x, factor, shift, bytes, channelBytes) =>
        e.scaleShiftChannels(out, x, factor, shift, bytes, channelBytes),
    };
  } catch {
    return null;
  }
}

/** The next float32 above / below v (for strict comparisons through `masked`'s inclusive bounds). */
export function nextUp(v: number): number {
  return step32(v, 1);
}

export function nextDown(v: number): number {
  return step32(v, -1);
}

function step32(v: number, dir: 1 | -1): number {
  const f = new Float32Array([v]);
  if (Number.isNaN(v) || v === dir * Infinity) return v;
  if (v === 0) return dir * 1.401298464324817e-45;
  const bits = new Int32Array(f.buffer);
  bits[0] = (bits[0] as number) + ((v > 0) === (dir > 0) ? 1 : -1);
  return f[0] as number;
}
