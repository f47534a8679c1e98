// The core's allocator: asconfig.json maps AssemblyScript's `__alloc` to
// bumpAlloc ("use": __alloc=assembly/rt/bump/bumpAlloc), so heap.alloc and
// `new` of the core's @unmanaged classes come here. Like --runtime stub (which
// still provides the rest of the runtime, unused) it only bumps a pointer and
// never frees: the core allocates only while the module starts (index.ts).
// Unlike the stub's __alloc it puts no 4-byte block header in front of each
// allocation and aligns to 8 bytes (the widest value the core stores, i64),
// not 16: the stub spent ~1.2 KB of the core's linear memory on headers and
// padding over ~130 allocations. Nothing may __free/__realloc these blocks
// (they have no header); the core never does.
// scripts/shrink-wasm.mjs exports `offset` as heap_offset() and the heap end
// after start as __heap_base.

/** Allocation granule - 1: i64 fields stay 8-byte aligned (WAMR loads an
 *  unaligned i64 byte by byte on a Cortex-M0+). */
// @ts-ignore: decorator
@inline const ALIGN_MASK: usize = 7;

/** Next free byte: the heap end. */
// @ts-ignore: decorator
@lazy let offset: usize = (__heap_base + ALIGN_MASK) & ~ALIGN_MASK;

/** Returns `size` bytes (not cleared) at an 8-byte boundary; traps when they
 *  do not fit the memory, which never grows (shrink-wasm: 1 page). */
export function bumpAlloc(size: usize): usize {
  const ptr = offset;
  const end = (ptr + size + ALIGN_MASK) & ~ALIGN_MASK;
  if (end < ptr || end > (<usize>memory.size() << 16)) unreachable();
  offset = end;
  return ptr;
}
