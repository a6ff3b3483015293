import { stringify } from 'yaml';
import { fuzzBytes } from './mutators';
import type { Rng } from './rng';

/**
 * Structured mutators for configuration documents (YAML or JSON, as decoded): a field removed,
 * its value swapped for another type, an out-of-range number, an unknown key, an empty or
 * oversized list. Works on a deep copy; the valid document is never changed.
 */

type Path = readonly (string | number)[];

/** Values that stand in for a field's own: every JSON type, boundaries and oversized ones. */
const REPLACEMENTS: readonly unknown[] = [
  null,
  true,
  false,
  0,
  -1,
  1.5,
  -0.5,
  1e308,
  -1e308,
  2 ** 31,
  2 ** 53 + 2,
  '',
  'x',
  '-1',
  '1e309',
  '0s',
  '999999999999h',
  'a'.repeat(70_000),
  [],
  [1, 2],
  ['x'],
  {},
  { unexpected: 1 },
];

/** Every field and list item of `v`, as paths from the root. */
function paths(v: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  if (v === null || typeof v !== 'object') return out;
  for (const [k, x] of Object.entries(v)) {
    const p = [...prefix, Array.isArray(v) ? Number(k) : k];
    out.push(p);
    paths(x, p, out);
  }
  return out;
}

function containers(v: unknown, prefix: Path = [], out: Path[] = []): Path[] {
  if (v !== null && typeof v === 'object') {
    out.push(prefix);
    for (const [k, x] of Object.entries(v)) containers(x, [...prefix, Array.isArray(v) ? Number(k) : k], out);
  }
  return out;
}

function parentOf(root: unknown, p: Path): Record<string | number, unknown> {
  let v = root as Record<string | number, unknown>;
  for (const k of p.slice(0, -1)) v = v[k] as Record<string | number, unknown>;
  return v;
}

function numberNear(rng: Rng, n: number): number {
  return rng.pick([-n, n + 0.5, n * 1000, n * 1e9, n + 1, n - 1, 0, -1, Number.MAX_SAFE_INTEGER + 2]);
}

/** One mutation of the document (a deep copy); `doc` must be a JSON value. */
export function mutateDocument(rng: Rng, doc: unknown): unknown {
  const root = structuredClone({ root: doc }) as { root: unknown };
  const all = paths(root.root, ['root']);
  const roll = rng.below(100);
  if (all.length === 0 || roll < 5) return rng.pick(REPLACEMENTS);
  if (roll < 20) {
    // an unknown key (or an extra item) in some object or list
    const c = rng.pick(containers(root.root, ['root']));
    const target = c.reduce<unknown>((v, k) => (v as Record<string | number, unknown>)[k], root);
    if (Array.isArray(target)) target.push(rng.pick(REPLACEMENTS));
    else (target as Record<string, unknown>)[rng.pick(['unknown', 'extra', '__proto__x', 'Id'])] = 1;
    return root.root;
  }
  const p = rng.pick(all);
  const parent = parentOf(root, p);
  const key = p[p.length - 1]!;
  const old = parent[key];
  if (roll < 40) {
    if (Array.isArray(parent)) parent.splice(Number(key), 1);
    else delete parent[key];
  } else if (roll < 60 && typeof old === 'number') parent[key] = numberNear(rng, old);
  else if (roll < 65 && Array.isArray(old)) parent[key] = rng.chance(0.5) ? [] : Array(2000).fill(old[0]);
  else parent[key] = rng.pick(REPLACEMENTS);
  return root.root;
}

/** A document for one case: 1-3 structured mutations of a valid one. */
export function fuzzDocument(rng: Rng, seeds: readonly unknown[]): unknown {
  let doc = rng.pick(seeds);
  const steps = 1 + rng.below(3);
  for (let i = 0; i < steps; i += 1) doc = mutateDocument(rng, doc);
  return doc;
}

/**
 * YAML text for one case: mostly a structurally mutated document, sometimes the valid
 * document's text damaged byte by byte (broken indentation, quotes, anchors).
 */
export function fuzzYamlText(rng: Rng, seeds: readonly unknown[]): string {
  if (rng.chance(0.7)) return stringify(fuzzDocument(rng, seeds));
  const texts = seeds.map((s) => Buffer.from(stringify(s), 'utf8'));
  return Buffer.from(fuzzBytes(rng, texts)).toString('utf8');
}
