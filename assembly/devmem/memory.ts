// The core's view of device memory: the region's current image (read from the
// host at init: what was restored at boot), a shadow where the next image is
// built, and one commit (devmem_commit) that the host applies atomically.
//
// Composition rule (README "ConfigMaps"): the next image starts from the
// current one, then the value sets of the followed ConfigMaps are laid over it
// in precedence order, lowest first, so a later ConfigMap wins for an address
// both name. An address no followed ConfigMap names keeps its last value.

import { config_get, devmem_commit, devmem_read } from "../host/imports";
import { CFG_PLATFORM_DEVMEM_BYTES } from "../host/config";
import { memEqual, parseDec, SCRATCH } from "../util/bytes";
import { E_INVAL, E_NOTFOUND, E_TOOLARGE, OK } from "../util/errors";
import { CONFIG_NUMBER_MAX, DEVMEM_MAX } from "../util/limits";
import { litLen, litPtr } from "../util/lit";
import { ValueSet } from "./values";

/** The size is read into the shared scratch (util/bytes.ts). */
const NUM: usize = SCRATCH;

// @ts-ignore: decorator
@unmanaged
export class DeviceMemory {
  /** Region size in bytes (platform.devmem_bytes), 0 until init. */
  size: i32 = 0;
  // One heap block for both.
  readonly image: usize = heap.alloc(<usize>(DEVMEM_MAX << 1));
  readonly shadow: usize = this.image + <usize>DEVMEM_MAX;
  /** Commits that reached the host since init. */
  commits: i32 = 0;

  /** Learns the region size and reads the current image. Returns OK,
   *  E_TOOLARGE (region larger than DEVMEM_MAX) or a host error. */
  init(): i32 {
    const k = CFG_PLATFORM_DEVMEM_BYTES;
    const n = config_get(litPtr(k), litLen(k), NUM, CONFIG_NUMBER_MAX);
    if (n == E_NOTFOUND) return E_NOTFOUND;
    if (n < 0) return n;
    const v = parseDec(NUM, n);
    if (v <= 0) return E_INVAL;
    if (v > <i64>DEVMEM_MAX) return E_TOOLARGE;
    this.size = <i32>v;
    memory.fill(this.image, 0, <usize>DEVMEM_MAX);
    const r = devmem_read(this.image, DEVMEM_MAX);
    if (r < 0) return r;
    return OK;
  }

  /** Starts the next image from the current one. */
  begin(): void {
    memory.copy(this.shadow, this.image, <usize>this.size);
  }

  /** Lays `set` over the next image. */
  overlay(set: ValueSet): void {
    if (set.count == 0) return;
    for (let a = 0; a < this.size; a++) {
      if (set.has(a)) store<u8>(this.shadow + <usize>a, set.get(a));
    }
  }

  /** The next image differs from the current one. */
  get changed(): bool {
    return !memEqual(this.shadow, this.image, this.size);
  }

  /** Byte `a` of the current image. */
  byte(a: i32): u8 { return load<u8>(this.image + <usize>a); }

  /** Hands the next image to the host; on OK it is the current one. */
  commit(): i32 {
    const r = devmem_commit(this.shadow, this.size);
    if (r < 0) return r;
    memory.copy(this.image, this.shadow, <usize>this.size);
    this.commits++;
    return OK;
  }
}
