import { ExperimentRandom } from './seeded';

/**
 * Partitions of a labelled dataset across sites, for experiments and the simulator. Each
 * returns, per site, the indices of its records; every record goes to exactly one site.
 * All are seeded and deterministic.
 */
export type PartitionSpec =
  | { readonly kind: 'iid' }
  /** Label skew: each class is split across sites by a Dirichlet(alpha) draw (Hsu et al. 2019, arXiv:1909.06335). */
  | { readonly kind: 'dirichlet'; readonly alpha: number }
  /** Pathological non-IID of McMahan et al. 2017 (arXiv:1602.05629): sorted by label, cut into shards, `shardsPerSite` each. */
  | { readonly kind: 'shards'; readonly shardsPerSite: number }
  /** Quantity skew: site sizes drawn from Dirichlet(alpha), labels IID within a site. */
  | { readonly kind: 'quantity'; readonly alpha: number };

function check(labels: ArrayLike<number>, sites: number): void {
  if (!Number.isInteger(sites) || sites < 1) throw new RangeError("'sites' must be an integer >= 1");
  if (labels.length < sites)
    throw new RangeError(`cannot split ${labels.length} records across ${sites} sites`);
}

/** Splits `items` into consecutive runs of the given sizes (which sum to items.length). */
function cut<T>(items: T[], sizes: number[]): T[][] {
  let at = 0;
  return sizes.map((s) => {
    const part = items.slice(at, at + s);
    at += s;
    return part;
  });
}

/** Integer sizes proportional to `weights` that sum to `total` (largest remainders). */
export function proportionalSizes(total: number, weights: readonly number[]): number[] {
  const sum = weights.reduce((a, b) => a + b, 0);
  const raw = weights.map((w) => (w / sum) * total);
  const sizes = raw.map(Math.floor);
  const order = raw.map((r, i) => [r - Math.floor(r), i] as const).sort((a, b) => b[0] - a[0] || a[1] - b[1]);
  const missing = total - sizes.reduce((a, b) => a + b, 0);
  for (let i = 0; i < missing; i += 1) {
    const idx = order[i % order.length]?.[1] ?? 0;
    sizes[idx] = (sizes[idx] ?? 0) + 1;
  }
  return sizes;
}

function iid(labels: ArrayLike<number>, sites: number, rng: ExperimentRandom): number[][] {
  const order = rng.shuffle(Array.from({ length: labels.length }, (_, i) => i));
  return cut(order, proportionalSizes(labels.length, new Array<number>(sites).fill(1)));
}

function byClass(labels: ArrayLike<number>): Map<number, number[]> {
  const classes = new Map<number, number[]>();
  for (let i = 0; i < labels.length; i += 1) {
    const y = labels[i] as number;
    classes.set(y, [...(classes.get(y) ?? []), i]);
  }
  return new Map([...classes.entries()].sort((a, b) => a[0] - b[0]));
}

function dirichlet(
  labels: ArrayLike<number>,
  sites: number,
  alpha: number,
  rng: ExperimentRandom,
): number[][] {
  if (!(alpha > 0)) throw new RangeError("'alpha' must be > 0");
  const out: number[][] = Array.from({ length: sites }, () => []);
  for (const members of byClass(labels).values()) {
    const parts = cut(
      rng.shuffle([...members]),
      proportionalSizes(members.length, rng.dirichlet(alpha, sites)),
    );
    parts.forEach((p, s) => out[s]?.push(...p));
  }
  return out;
}

function shards(
  labels: ArrayLike<number>,
  sites: number,
  perSite: number,
  rng: ExperimentRandom,
): number[][] {
  if (!Number.isInteger(perSite) || perSite < 1)
    throw new RangeError("'shardsPerSite' must be an integer >= 1");
  const count = sites * perSite;
  if (labels.length < count) throw new RangeError(`cannot cut ${labels.length} records into ${count} shards`);
  const sorted = [...byClass(labels).values()].flatMap((m) => rng.shuffle([...m]));
  const pieces = cut(sorted, proportionalSizes(sorted.length, new Array<number>(count).fill(1)));
  const order = rng.shuffle(Array.from({ length: count }, (_, i) => i));
  return Array.from({ length: sites }, (_, s) =>
    order.slice(s * perSite, (s + 1) * perSite).flatMap((p) => pieces[p] ?? []),
  );
}

function quantity(
  labels: ArrayLike<number>,
  sites: number,
  alpha: number,
  rng: ExperimentRandom,
): number[][] {
  if (!(alpha > 0)) throw new RangeError("'alpha' must be > 0");
  const order = rng.shuffle(Array.from({ length: labels.length }, (_, i) => i));
  // Every site keeps at least one record: the remaining ones are split by the Dirichlet draw.
  const extra = proportionalSizes(labels.length - sites, rng.dirichlet(alpha, sites));
  return cut(
    order,
    extra.map((e) => e + 1),
  );
}

/** Partitions records (given by their labels) across `sites` sites; indices sorted per site. */
export function partition(
  labels: ArrayLike<number>,
  sites: number,
  spec: PartitionSpec,
  seed: number,
): number[][] {
  check(labels, sites);
  const rng = new ExperimentRandom(seed);
  const parts =
    spec.kind === 'iid'
      ? iid(labels, sites, rng)
      : spec.kind === 'dirichlet'
        ? dirichlet(labels, sites, spec.alpha, rng)
        : spec.kind === 'shards'
          ? shards(labels, sites, spec.shardsPerSite, rng)
          : quantity(labels, sites, spec.alpha, rng);
  return parts.map((p) => p.sort((a, b) => a - b));
}
