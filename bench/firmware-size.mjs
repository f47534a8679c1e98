#!/usr/bin/env node
// Firmware size report for the Pico W build (scripts/build-firmware.sh).
// Prints JSON lines {"metric":..., "value":N, "unit":"bytes"}:
//   uf2_payload_bytes            payload of build/pico/k3s_pico_node.uf2 (256 B/block)
//   firmware_bin_bytes           the firmware image (budget 700 KB, DESIGN.md)
//   flash_<component>_bytes      flash by component, from the linker map:
//                                shim, wamr, lwip, mbedtls, cyw43 (driver),
//                                cyw43_firmware (the Wi-Fi chip's blob), tinyusb,
//                                sdk (pico-sdk runtime), libc (newlib, libgcc), other;
//                                RAM also wamr_pool (the fixed pool WAMR runs the core in)
//   core_wasm_slot_bytes         core.wasm + its 16-byte header (own flash region)
//   ram_static_bytes             .data + .bss + vector table + uninitialised data
//   ram_<component>_bytes        static RAM by the same components
//   heap_available_bytes         RAM between the end of .bss and the stack (C heap)
//                                (what it holds at work: bench/hosted.mjs's
//                                hosted_heap_peak, the firmware's code on the
//                                hosted board with a heap of exactly this size)
// Tools: arm-none-eabi-size -A (sections), arm-none-eabi-nm (heap bounds) and
// the GNU ld map (-Wl,-Map) for the grouping.
//   node bench/firmware-size.mjs [build/pico/k3s_pico_node.elf]
// Without the ELF it says so loudly and exits 0 with no figures.
import { existsSync, readFileSync, statSync } from 'node:fs';
import { execFileSync } from 'node:child_process';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const elf = resolve(process.argv[2] || join(ROOT, 'build/pico/k3s_pico_node.elf'));
const map = `${elf}.map`;
if (!existsSync(elf)) {
  console.error('########################################################################');
  console.error(`firmware-size: NO FIGURES: ${elf} does not exist.`);
  console.error('firmware-size: build it first: PICO_SDK_PATH=... WAMR_ROOT=... npm run build');
  console.error('########################################################################');
  process.exit(0);
}

const emit = (metric, value) => console.log(JSON.stringify({ metric, value, unit: 'bytes' }));

// Sections whose bytes are stored in flash, and those that occupy RAM.
const FLASH_SECTIONS = new Set(['.boot2', '.text', '.rodata', '.binary_info', '.data',
  '.scratch_x', '.scratch_y', '.ARM.extab', '.ARM.exidx']);
const RAM_SECTIONS = new Set(['.ram_vector_table', '.uninitialized_data', '.data', '.bss',
  '.scratch_x', '.scratch_y']);

// Component of an input section, from its object file path and name.
function component(file, section) {
  if (/43439A0|wifi_nvram|cyw43_btfw/.test(section)) return 'cyw43_firmware';
  if (/^\.bss\.shim_wamr_pool$/.test(section)) return 'wamr_pool';
  if (/firmware-shim\/(src|runtime|port\/pico\/(?!wamr_platform))/.test(file)) return 'shim';
  if (/wamr|iwasm|wamr_platform/i.test(file)) return 'wamr';
  if (/\/lib\/lwip\/|pico_lwip/.test(file)) return 'lwip';
  if (/\/lib\/mbedtls\/|pico_mbedtls/.test(file)) return 'mbedtls';
  if (/cyw43/.test(file)) return 'cyw43';
  if (/tinyusb/.test(file)) return 'tinyusb';
  if (/pico-sdk|pico_sdk|bs2_default|boot_stage2/.test(file)) return 'sdk';
  if (/lib(c|g|m|gcc|nosys|stdc\+\+)[^/]*\.a|crt[a-z0-9]*\.o/.test(file)) return 'libc';
  return 'other';
}

function parseMap(text) {
  const flash = {};
  const ram = {};
  let out = null;
  let pending = null;
  const add = (file, section, size) => {
    if (!out || size === 0) return;
    const c = component(file, section);
    if (FLASH_SECTIONS.has(out)) flash[c] = (flash[c] || 0) + size;
    if (RAM_SECTIONS.has(out)) ram[c] = (ram[c] || 0) + size;
  };
  for (const line of text.split('\n')) {
    let m;
    if ((m = /^(\.[^\s]+)(\s|$)/.exec(line))) {
      out = m[1];
      pending = null;
      continue;
    }
    if ((m = /^ ([^\s*][^\s]*)\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$/.exec(line))) {
      add(m[4], m[1], parseInt(m[3], 16));
      pending = null;
      continue;
    }
    if ((m = /^ ([^\s*][^\s]*)$/.exec(line))) {
      pending = m[1];
      continue;
    }
    if (pending && (m = /^\s+0x([0-9a-f]+)\s+0x([0-9a-f]+)\s+(\S.*)$/.exec(line))) {
      add(m[3], pending, parseInt(m[2], 16));
    }
    pending = null;
  }
  return { flash, ram };
}

const sizeOut = execFileSync('arm-none-eabi-size', ['-A', elf]).toString();
const sections = {};
for (const line of sizeOut.split('\n')) {
  const m = /^(\.\S+)\s+(\d+)\s+(\d+)/.exec(line);
  if (m) sections[m[1]] = { size: Number(m[2]), addr: Number(m[3]) };
}
const nmOut = execFileSync('arm-none-eabi-nm', [elf]).toString();
const sym = {};
for (const line of nmOut.split('\n')) {
  const m = /^([0-9a-f]+) \S (\S+)$/.exec(line);
  if (m) sym[m[2]] = parseInt(m[1], 16);
}

const uf2 = join(dirname(elf), 'k3s_pico_node.uf2');
if (existsSync(uf2)) emit('uf2_payload_bytes', (statSync(uf2).size / 512) * 256);
const bin = elf.replace(/\.elf$/, '.bin');
if (existsSync(bin)) emit('firmware_bin_bytes', statSync(bin).size);
let flashTotal = 0;
for (const [name, s] of Object.entries(sections)) if (FLASH_SECTIONS.has(name)) flashTotal += s.size;
emit('flash_total_bytes', flashTotal);

if (existsSync(map)) {
  const { flash, ram } = parseMap(readFileSync(map, 'utf8'));
  for (const c of Object.keys(flash).sort()) emit(`flash_${c}_bytes`, flash[c]);
  for (const c of Object.keys(ram).sort()) emit(`ram_${c}_bytes`, ram[c]);
} else {
  console.error(`firmware-size: ${map} missing: no per-component figures`);
}
const core = join(ROOT, 'build/core.wasm');
if (existsSync(core)) emit('core_wasm_slot_bytes', statSync(core).size + 16);

let ramStatic = 0;
for (const [name, s] of Object.entries(sections)) if (RAM_SECTIONS.has(name)) ramStatic += s.size;
emit('ram_static_bytes', ramStatic);
if (sym.end !== undefined && sym.__HeapLimit !== undefined) {
  const heap = sym.__HeapLimit - sym.end;
  emit('heap_available_bytes', heap);
}
