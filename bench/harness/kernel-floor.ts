// The kernel floor of one training step: the time ONNX Runtime's own CPU kernels need for the
// matrix products and convolutions that any engine built on them must run for one step of the
// model (forward products, input gradients that are used, weight gradients), with every other
// op (activations, pooling, loss, optimizer, layout reorders, im2col copies, session overhead)
// left out. It bounds what the engine can reach on this machine with this stack: a step cannot
// take less, so `samples/s at the floor / PyTorch's samples/s` is the largest ratio any engine
// on these kernels could show in the same run (docs/benchmarks.md, "How far these kernels can go").
//
// Measured from ORT's own profile (per-node `kernel_time` events), so only the products' kernels
// are summed; each product is a separate node on its own graph inputs (no common subexpression for
// ORT to merge) whose output is reduced to a scalar. For products with more than one formulation
// the fastest one measured counts (a lower floor is the conservative side of "unreachable").
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as ort from 'onnxruntime-node';
import { emitModel, Graph, openOrtSession, SeededRandom, type Tensor } from '@fedistill/engine';
import { CNN_SHAPE } from './bench-models';
import type { WorkerReport } from './interleave';
import { median } from './stats';

/** One formulation of a product: builds its node from fresh graph inputs, returns its output. */
export interface Formulation {
  readonly name: string;
  readonly build: (g: Graph, prefix: string) => Tensor;
}

/** A product of the training step and the formulations it may be computed with. */
export interface Product {
  readonly name: string;
  readonly forms: readonly Formulation[];
}

const input = (g: Graph, name: string, shape: readonly number[]): Tensor => g.input(name, 'float32', shape);

/** out = a @ b for a [m, k], b [k, n]: as Gemm with b stored [k, n] or transposed [n, k]. */
function matmulForms(m: number, k: number, n: number): Formulation[] {
  return [
    {
      name: 'gemm',
      build: (g, p) => g.apply1('Gemm', [input(g, `${p}a`, [m, k]), input(g, `${p}b`, [k, n])]),
    },
    {
      name: 'gemm-transB',
      build: (g, p) =>
        g.apply1('Gemm', [input(g, `${p}a`, [m, k]), input(g, `${p}b`, [n, k])], { transB: { i: 1 } }),
    },
    {
      name: 'gemm-transA',
      build: (g, p) =>
        g.apply1('Gemm', [input(g, `${p}a`, [k, m]), input(g, `${p}b`, [k, n])], { transA: { i: 1 } }),
    },
  ];
}

/** The products of a dense layer [batch, inputs] -> [batch, outputs]; `inputGrad` when dX is used. */
function denseProducts(
  name: string,
  batch: number,
  inputs: number,
  outputs: number,
  inputGrad: boolean,
): Product[] {
  return [
    { name: `${name} forward`, forms: matmulForms(batch, inputs, outputs) },
    { name: `${name} weight gradient`, forms: matmulForms(inputs, batch, outputs) },
    ...(inputGrad ? [{ name: `${name} input gradient`, forms: matmulForms(batch, outputs, inputs) }] : []),
  ];
}

/** A 3x3, pad 1, stride 1 Conv [batch, c, h, w] -> [batch, m, h, w]. */
function conv3x3(name: string, batch: number, c: number, m: number, h: number): Formulation {
  return {
    name,
    build: (g, p) =>
      g.apply1('Conv', [input(g, `${p}x`, [batch, c, h, h]), input(g, `${p}w`, [m, c, 3, 3])], {
        pads: { ints: [1, 1, 1, 1] },
      }),
  };
}

/**
 * The products of a 3x3 conv stage: the forward Conv, the input gradient (a Conv of dY with the
 * flipped kernel) when used, and the weight gradient: dW [m, c*9] = dY [m, batch*h*w] times the
 * im2col columns [c*9, batch*h*w] transposed, or per sample, the columns given ready-made (their
 * construction is not a product and is left out).
 */
function convProducts(
  name: string,
  batch: number,
  c: number,
  m: number,
  h: number,
  inputGrad: boolean,
): Product[] {
  return [
    { name: `${name} forward`, forms: [conv3x3('conv', batch, c, m, h)] },
    ...(inputGrad ? [{ name: `${name} input gradient`, forms: [conv3x3('conv', batch, m, c, h)] }] : []),
    {
      name: `${name} weight gradient`,
      forms: [
        ...matmulForms(m, batch * h * h, c * 9),
        // Per sample, columns [c*9, h*w] times dY transposed [h*w, m] (the engine's form); the
        // sum over the batch that follows is left out.
        {
          name: 'batched-matmul',
          build: (g, p) =>
            g.apply1('MatMul', [
              input(g, `${p}a`, [batch, c * 9, h * h]),
              input(g, `${p}b`, [batch, h * h, m]),
            ]),
        },
      ],
    },
  ];
}

/** The products of one training step of the benchmark's MLP (784-256-10) or small CNN. */
export function stepProducts(model: 'mlp' | 'cnn', batch: number): Product[] {
  if (model === 'mlp')
    return [...denseProducts('fc1', batch, 784, 256, false), ...denseProducts('fc2', batch, 256, 10, true)];
  const { c1, c2, hidden } = CNN_SHAPE;
  return [
    ...convProducts('conv1', batch, 1, c1, 28, false),
    ...convProducts('conv2', batch, c1, c2, 14, true),
    ...denseProducts('fc1', batch, c2 * 7 * 7, hidden, true),
    ...denseProducts('fc2', batch, hidden, 10, true),
  ];
}

/**
 * One graph holding every formulation of every product, each on its own inputs and reduced to a
 * scalar; the scalars are summed into the single output `total`. Returns, per product and
 * formulation, the name ORT's profile gives its node (the emitter names a node by its output).
 */
export function buildFloorGraph(g: Graph, products: readonly Product[]): string[][] {
  let total: Tensor | null = null;
  const names = products.map((product, i) =>
    product.forms.map((form, j) => {
      const out = form.build(g, `p${i}f${j}_`);
      const s = g.apply1('ReduceSum', [out], { keepdims: { i: 0 } });
      total = total ? g.apply1('Add', [total, s]) : s;
      return out.name;
    }),
  );
  if (!total) throw new RangeError('no products to measure');
  g.output('total', total);
  return names;
}

/** One `kernel_time` event of ORT's profile. */
export interface ProfileEvent {
  readonly cat?: string;
  readonly name?: string;
  readonly dur?: number;
}

/**
 * Per-node median kernel time (microseconds) of the events whose name is `<node>_kernel_time`,
 * for the nodes in `names` (others, e.g. reductions and layout reorders, are ignored). A node
 * with no event is an error: ORT renamed or fused it and the floor would silently miss it.
 */
export function medianKernelTimes(
  events: readonly ProfileEvent[],
  names: readonly string[],
): Map<string, number> {
  const byNode = new Map<string, number[]>(names.map((n) => [n, []]));
  for (const e of events) {
    if (e.cat !== 'Node' || typeof e.name !== 'string' || typeof e.dur !== 'number') continue;
    if (!e.name.endsWith('_kernel_time')) continue;
    byNode.get(e.name.slice(0, -'_kernel_time'.length))?.push(e.dur);
  }
  const out = new Map<string, number>();
  for (const [name, durs] of byNode) {
    if (durs.length === 0) throw new Error(`ORT's profile has no kernel time for node '${name}'`);
    out.set(name, median(durs));
  }
  return out;
}

/** Per product: the fastest formulation's median kernel time; and their sum, the floor. */
export interface FloorReport {
  readonly step_ms: number;
  /** Per product: the fastest form and its time, and every form's time (microseconds). */
  readonly products: { name: string; form: string; us: number; forms: Record<string, number> }[];
}

export function floorOf(
  products: readonly Product[],
  names: readonly (readonly string[])[],
  times: ReadonlyMap<string, number>,
): FloorReport {
  const rows = products.map((p, i) => {
    let best = { name: p.name, form: '', us: Infinity };
    const forms: Record<string, number> = {};
    p.forms.forEach((f, j) => {
      const us = times.get(names[i]?.[j] ?? '');
      if (us === undefined) throw new Error(`no kernel time for ${p.name} (${f.name})`);
      forms[f.name] = Math.round(us * 10) / 10;
      if (us < best.us) best = { name: p.name, form: f.name, us };
    });
    return { ...best, us: Math.round(best.us * 10) / 10, forms };
  });
  return { step_ms: rows.reduce((s, r) => s + r.us, 0) / 1000, products: rows };
}

/** What one kernel-floor worker process prints (besides the harness's own keys). */
export interface FloorWorkerReport extends WorkerReport {
  readonly step_ms: number;
  readonly products: FloorReport['products'];
}

/**
 * The floor over several fresh processes (the fastest, i.e. the most favourable to the engine)
 * and what it bounds: `ratio_ceiling` = samples/s at the floor over PyTorch's median, the largest
 * engine/PyTorch ratio any engine on these kernels could reach in the run; `engine_share` = the
 * engine's median over samples/s at the floor (1 would be a step made of nothing but products).
 */
export function floorJson(
  reports: readonly FloorWorkerReport[],
  torchMedian: number | null,
  engineMedian: number | null,
): Record<string, unknown> {
  if (reports.length === 0) throw new RangeError('no kernel-floor reports');
  const best = reports.reduce((a, b) => (b.step_ms < a.step_ms ? b : a));
  const round = (v: number, places: number) => Math.round(v * 10 ** places) / 10 ** places;
  return {
    step_ms: best.step_ms,
    samples_per_s: best.samples_per_s,
    step_ms_samples: reports.map((r) => r.step_ms),
    ratio_ceiling: torchMedian ? round(best.samples_per_s / torchMedian, 2) : null,
    engine_share: engineMedian ? round(engineMedian / best.samples_per_s, 3) : null,
    products: best.products,
  };
}

/** Settings of {@link measureFloor}. */
export interface FloorSettings {
  readonly model: 'mlp' | 'cnn';
  readonly batch: number;
  readonly threads: number;
  /** Session runs profiled; each product's time is its median over them. */
  readonly runs: number;
  /** Whether idle intra-op threads spin (the engine side's setting). */
  readonly spin: boolean;
}

/**
 * Builds the floor graph of `model`, runs it `runs` times in one session with the engine's
 * session settings and ORT profiling on, and returns the floor from the profile.
 */
export async function measureFloor(o: FloorSettings): Promise<FloorReport> {
  if (!(o.batch >= 1 && o.runs >= 1 && o.threads >= 1))
    throw new RangeError("'batch', 'runs' and 'threads' must be >= 1");
  const products = stepProducts(o.model, o.batch);
  const g = new Graph();
  const names = buildFloorGraph(g, products);
  const dir = mkdtempSync(join(tmpdir(), 'kernel-floor-'));
  try {
    const session = await openOrtSession(emitModel(g, { mode: 'training' }), 'cpu', o.threads, {
      allowSpinning: o.spin,
      profilePrefix: join(dir, 'floor'),
    });
    if (session instanceof Error) throw session;
    const rng = new SeededRandom(7);
    const feeds = Object.fromEntries(
      g.inputs.map((t) => {
        const shape = t.shape as number[];
        const data = Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, () => rng.next() - 0.5);
        return [t.name, new ort.Tensor('float32', data, shape)];
      }),
    );
    for (let r = 0; r < o.runs; r += 1) await session.run(feeds);
    session.endProfiling();
    await session.release();
    const file = readdirSync(dir).find((f) => f.startsWith('floor') && f.endsWith('.json'));
    if (!file) throw new Error(`ONNX Runtime wrote no profile under ${dir}`);
    const events = JSON.parse(readFileSync(join(dir, file), 'utf8')) as ProfileEvent[];
    return floorOf(products, names, medianKernelTimes(events, names.flat()));
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
