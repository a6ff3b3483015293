// What the C library's allocator does with freed memory, set the same on both sides of a
// comparison (docs/benchmarks.md, "Page faults, the allocator and a fair PyTorch").
//
// glibc returns large freed blocks to the kernel (blocks above the mmap threshold are unmapped,
// and the top of the heap is trimmed past the trim threshold), so a program that allocates and
// frees large tensors every step takes a page fault per 4 KiB page it touches again. On most
// machines a fault costs well under a microsecond; on this VM (a PVM guest with shadow paging)
// one costs about 10 us, and PyTorch, which frees its activations and gradients every step, ran
// 1.8x (MLP) and 3.2x (CNN) faster once glibc kept the memory. `retain` sets that for both sides.
import { performance } from 'node:perf_hooks';

/** `retain`: glibc keeps freed memory (both sides); `release`: glibc's defaults, as shipped. */
export type MallocMode = 'retain' | 'release';

/**
 * The largest mmap threshold glibc accepts on 64-bit (32 MiB; larger values are ignored) and a
 * trim threshold far above either side's working set. Both are needed: a fixed trim threshold
 * alone turns off glibc's adaptive mmap threshold and makes every large block a fresh mapping.
 */
export const RETAIN_TUNABLES = 'glibc.malloc.mmap_threshold=33554432:glibc.malloc.trim_threshold=1073741824';

/** The environment a side's process gets for `mode` (empty GLIBC_TUNABLES = glibc's defaults). */
export function mallocEnv(mode: MallocMode): Record<string, string> {
  return { GLIBC_TUNABLES: mode === 'retain' ? RETAIN_TUNABLES : '' };
}

/** Microseconds per minor page fault of this machine, with the faults it was measured over. */
export interface PageFaultCost {
  readonly us_per_fault: number;
  readonly faults: number;
}

/**
 * Measures what one minor page fault costs here: a fresh 64 MiB ArrayBuffer (above any mmap
 * threshold, so glibc maps it anew and its pages are untouched) written once per 4 KiB page,
 * timed and counted with getrusage; the median of `rounds` buffers.
 */
export function measurePageFaultCost(rounds = 5): PageFaultCost {
  const bytes = 64 << 20;
  const costs: number[] = [];
  let faults = 0;
  for (let r = 0; r < rounds; r += 1) {
    const view = new Uint8Array(new ArrayBuffer(bytes));
    const before = process.resourceUsage().minorPageFault;
    const t0 = performance.now();
    for (let i = 0; i < bytes; i += 4096) view[i] = 1;
    const ms = performance.now() - t0;
    const n = process.resourceUsage().minorPageFault - before;
    faults += n;
    if (n > 0) costs.push((ms * 1000) / n);
  }
  costs.sort((a, b) => a - b);
  const mid = costs[costs.length >> 1];
  if (mid === undefined) throw new Error('no page fault was observed while touching fresh memory');
  return { us_per_fault: Math.round(mid * 100) / 100, faults };
}
