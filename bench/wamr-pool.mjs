// How much of WAMR's fixed pool (Alloc_With_Pool) the node agent needs,
// measured instead of estimated: bench/wamr-pool/ builds WAMR with the
// device's options (firmware-shim/port/pico/wamr/CMakeLists.txt) and the
// device's WAMR platform (its os_mmap serves the linear memory from the
// pool), loads build/core.wasm the way runtime_wamr.c does, runs init() and
// a few thousand poll()s against an inert host, and reads the pool through
// wasm_runtime_get_mem_alloc_info.
//
// Two builds: x86_32 (gcc -m32 -malign-double: 32-bit pointers and the ARM
// EABI's 8-byte alignment of 64-bit members; the device-like figure) and
// x86_64 (the 64-bit host, for comparison). When arm-none-eabi-gcc is there,
// the sizes of WAMR's structures compiled for the device (cortex-m0plus) are
// compared with the x86_32 build's (bench/wamr-pool/layout.c).
//
// Figures per build (suffix _x86_32 / _x86_64), bytes of the pool in use:
//   wamr_pool_after_load, _after_instantiate, _after_init, _peak (the
//   high-water mark, breakdown in the line), _min_working (the smallest pool
//   with which load, instantiate, init and every poll succeed: the peak plus
//   the allocator's header and fragmentation, found by bisection), and
//   wamr_pool_fits_firmware (1/0 at the firmware's SHIM_WAMR_POOL_BYTES).
// For x86_32 also wamr_pool_recommended: _min_working + MARGIN, rounded up
// to 1 KiB, checked by a run with that pool.
// Needs WAMR_ROOT (a wasm-micro-runtime tree); without it says so on stderr
// and prints nothing. Usage: node bench/wamr-pool.mjs [core.wasm]
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { out } from './lib.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const WAMR_ROOT = process.env.WAMR_ROOT;
if (!WAMR_ROOT) {
  console.error('bench/wamr-pool: SKIPPED, no figures: WAMR_ROOT is not set (a wasm-micro-runtime source tree)');
  process.exit(0);
}
const WASM_NAME = process.argv[2] ?? 'build/core.wasm';
const WASM = path.resolve(process.argv[2] ?? path.join(ROOT, 'build/core.wasm'));
if (!existsSync(WASM)) {
  console.error(`bench/wamr-pool: ${WASM_NAME} is missing (npm run build:wasm builds build/core.wasm).`);
  process.exit(1);
}
const POLLS = Number(process.env.BENCH_WAMR_POOL_POLLS ?? 3000);
/** Margin over the smallest working pool: covers allocation order changing
 *  with a core rebuilt in between, the last few bytes of placement (the
 *  device's pool start is 4 bytes off an 8-byte boundary; mimicked, but the
 *  linker may move it) and the ~4 KB the port/pico os_mmap would add if it
 *  allocated the page-rounded size WAMR bounds-checks (see the report). */
const MARGIN = 4096;
/** Largest pool the tool takes (bench/wamr-pool/wamr_pool.c WAMR_POOL_MAX). */
const POOL_MAX = 1024 * 1024;

// ---- the firmware's settings, read from its sources ----

/** Value of a C integer expression such as "(8u * 1024u)" or "110592u". */
function cInt(expr) {
  const e = expr.replace(/(\d)[uU][lL]*/g, '$1').trim();
  if (!/^[\d\s*+()]+$/.test(e)) throw new Error(`not a plain integer expression: ${expr}`);
  return Number(Function(`"use strict"; return (${e});`)());
}

/** SHIM_WAMR_* of the device: runtime_wamr.c defaults, overridden by
 *  K3S_DEVICE_LIMITS in port/pico/device.cmake. */
function firmwareSettings() {
  const adapter = readFileSync(path.join(ROOT, 'firmware-shim/runtime/wamr/runtime_wamr.c'), 'utf8');
  const cmake = readFileSync(path.join(ROOT, 'firmware-shim/port/pico/device.cmake'), 'utf8');
  const limits = /set\(K3S_DEVICE_LIMITS([^)]*)\)/.exec(cmake)?.[1] ?? '';
  const get = (name) => {
    const o = new RegExp(`\\b${name}=(\\S+)`).exec(limits);
    if (o) return cInt(o[1]);
    const d = new RegExp(`#define ${name} (.+)`).exec(adapter);
    if (!d) throw new Error(`${name} is defined neither in device.cmake nor in runtime_wamr.c`);
    return cInt(d[1]);
  };
  return {
    pool: get('SHIM_WAMR_POOL_BYTES'),
    stack: get('SHIM_WAMR_STACK_BYTES'),
    heap: get('SHIM_WAMR_APP_HEAP_BYTES'),
    moduleMax: get('SHIM_WAMR_MODULE_MAX'),
  };
}

// ---- building ----

/** Configures and builds bench/wamr-pool for target into build/wamr-pool/<target>;
 *  returns the build directory or null (said on stderr). */
function build(target) {
  const dir = path.join(ROOT, 'build/wamr-pool', target.toLowerCase());
  for (const args of [
    ['-S', path.join(ROOT, 'bench/wamr-pool'), '-B', dir, `-DWAMR_ROOT=${WAMR_ROOT}`, `-DWAMR_POOL_TARGET=${target}`,
      '-DCMAKE_BUILD_TYPE=MinSizeRel'],
    ['--build', dir, '-j2'],
  ]) {
    const r = spawnSync('cmake', args, { encoding: 'utf8' });
    if (r.status !== 0) {
      const text = `${r.stdout}\n${r.stderr}`;
      const hint = target === 'X86_32' && /-m32|crti\.o|libgcc/.test(text)
        ? ' (gcc -m32 needs Debian gcc-multilib: scripts/setup.sh installs it)' : '';
      console.error(`bench/wamr-pool: building the ${target} tool failed${hint}:\n${text.trim().split('\n').slice(-15).join('\n')}`);
      return null;
    }
  }
  return dir;
}

// ---- measuring ----

/** One run of the tool with a pool of `pool` bytes: its JSON report. */
function run(dir, fw, pool, polls = POLLS) {
  const r = spawnSync(path.join(dir, 'wamr-pool'), ['--wasm', WASM, '--pool', String(pool),
    '--stack', String(fw.stack), '--heap', String(fw.heap), '--polls', String(polls)], { encoding: 'utf8' });
  if (r.status !== 0 && r.status !== 1) throw new Error(`wamr-pool exited ${r.status}: ${r.stderr.trim()}`);
  const rep = JSON.parse(r.stdout);
  rep.ok = r.status === 0;
  return rep;
}

const step = (rep, name) => rep.steps.find((s) => s.step === name);

/** Smallest pool in [lo, hi] with which every step succeeds (hi must work),
 *  to 16 bytes. The allocator's first-fit placement need not make this
 *  monotonic, so the result is checked once more with the full poll count. */
function minWorking(dir, fw, lo, hi) {
  while (hi - lo > 16) {
    const mid = Math.floor((lo + hi) / 2 / 8) * 8;
    if (run(dir, fw, mid, 50).ok) hi = mid; else lo = mid;
  }
  while (!run(dir, fw, hi).ok) hi += 16;
  return hi;
}

/** All figures of one build. */
function measure(target, dir, fw) {
  const sfx = `_${target.toLowerCase()}`;
  const full = run(dir, fw, POOL_MAX);
  if (!full.ok) {
    console.error(`bench/wamr-pool: ${target}: ${full.failed} failed even with a ${POOL_MAX}-byte pool: ${full.error}`);
    return null;
  }
  const peak = step(full, 'polls').peak;
  const overhead = full.pool - full.pool_allocator_total;
  const min = minWorking(dir, fw, peak + overhead - 16, POOL_MAX);
  const atFw = run(dir, fw, fw.pool);
  const notes = { pointer_bytes: full.pointer_bytes, core_wasm: full.module, linear_memory: full.linear_memory,
    stack: full.stack, app_heap: full.app_heap, polls: full.polls };
  out(`wamr_pool_after_load${sfx}`, step(full, 'load').used, 'bytes',
    { ...notes, module_copy: step(full, 'module_copy').used, load_transient_peak: step(full, 'load').peak });
  out(`wamr_pool_after_instantiate${sfx}`, step(full, 'instantiate').used, 'bytes',
    { ...notes, instantiate_peak: step(full, 'instantiate').peak, note: 'linear memory included (os_mmap from the pool)' });
  out(`wamr_pool_after_init${sfx}`, step(full, 'init').used, 'bytes', { ...notes, note: 'exec env included' });
  out(`wamr_pool_peak${sfx}`, peak, 'bytes', {
    ...notes,
    breakdown: {
      runtime: step(full, 'runtime_init').used,
      module_copy: step(full, 'module_copy').used - step(full, 'runtime_init').used,
      module_structures: step(full, 'load').used - step(full, 'module_copy').used,
      instance_and_linear_memory: step(full, 'instantiate').used - step(full, 'load').used,
      exec_env: step(full, 'exec_env').used - step(full, 'instantiate').used,
      init_and_polls: step(full, 'polls').used - step(full, 'exec_env').used,
    },
    method: 'wasm_runtime_get_mem_alloc_info highmark_size after init() and the polls, 1 MiB pool',
  });
  out(`wamr_pool_min_working${sfx}`, min, 'bytes',
    { ...notes, allocator_header: overhead, method: 'bisection over the pool size; every step and poll must succeed' });
  out(`wamr_pool_fits_firmware${sfx}`, atFw.ok ? 1 : 0, 'bool', {
    firmware_pool: fw.pool,
    ...(atFw.ok ? { peak: step(atFw, 'polls').peak } : { failed_at: atFw.failed, error: atFw.error }),
  });
  return { peak, min, atFw };
}

/** Structure sizes (name -> bytes) in a build's libwamr_pool_layout.a. */
function layout(dir, nm) {
  const r = spawnSync(nm, ['-S', '--defined-only', path.join(dir, 'libwamr_pool_layout.a')], { encoding: 'utf8' });
  const sizes = new Map();
  for (const m of (r.stdout ?? '').matchAll(/^[0-9a-f]+ ([0-9a-f]+) \w wamr_layout_(\w+)$/gm)) sizes.set(m[2], parseInt(m[1], 16));
  return sizes;
}

// ---- main ----

const fw = firmwareSettings();
const wasmBytes = statSync(WASM).size;
if (wasmBytes > fw.moduleMax) {
  console.error(`bench/wamr-pool: note: ${WASM_NAME} (${wasmBytes} bytes) is larger than the firmware's `
    + `SHIM_WAMR_MODULE_MAX (${fw.moduleMax}): the device would refuse to load it.`);
}
const results = {};
for (const target of ['X86_32', 'X86_64']) {
  const dir = build(target);
  if (dir) results[target] = measure(target, dir, fw);
}
const m32 = results.X86_32;
if (m32) {
  const rec = Math.ceil((m32.min + MARGIN) / 1024) * 1024;
  const dir = path.join(ROOT, 'build/wamr-pool/x86_32');
  const check = run(dir, fw, rec);
  out('wamr_pool_recommended', rec, 'bytes', {
    firmware_pool: fw.pool, min_working_x86_32: m32.min, margin: MARGIN, checked: check.ok,
    change: rec === fw.pool ? 'none' : `SHIM_WAMR_POOL_BYTES=${rec}u (${rec - fw.pool > 0 ? '+' : ''}${rec - fw.pool} bytes)`,
    for_core_wasm: wasmBytes, core_within_module_max: wasmBytes <= fw.moduleMax,
  });
  if (!check.ok) console.error(`bench/wamr-pool: the recommended pool failed its check at ${check.failed}: ${check.error}`);
}

// Structure layout, x86_32 against the device's compiler.
if (m32 && spawnSync('arm-none-eabi-gcc', ['--version']).status === 0) {
  const thumb = build('THUMB');
  if (thumb) {
    const dev = layout(thumb, 'arm-none-eabi-nm');
    const host = layout(path.join(ROOT, 'build/wamr-pool/x86_32'), 'nm');
    const differ = [...dev].filter(([name, size]) => host.get(name) !== size).map(([name, size]) => `${name} ${host.get(name)} vs ${size}`);
    if (dev.size === 0 || dev.size !== host.size) {
      console.error(`bench/wamr-pool: layout: could not read the structure sizes (${host.size} x86_32, ${dev.size} thumb)`);
    } else {
      out('wamr_layout_mismatches_x86_32_vs_thumb', differ.length, 'structures',
        { compared: dev.size, differ, method: 'sizeof of WAMR structures, gcc -m32 -malign-double vs arm-none-eabi-gcc -mcpu=cortex-m0plus' });
    }
  }
} else if (m32) {
  console.error('bench/wamr-pool: layout comparison SKIPPED: arm-none-eabi-gcc is not installed (scripts/setup.sh)');
}
