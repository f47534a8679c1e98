/*
 * The core's module image, split for the RAM copy WAMR loads.
 *
 * WAMR's classic interpreter rewrites the code while it loads a module and
 * keeps pointing into it, so the module must be in RAM for as long as it
 * runs. Its active data segments, though, are read once: when the module is
 * instantiated they are copied into linear memory. Keeping them in the RAM
 * copy as well costs their size twice (the core's literals: ~15 KB).
 *
 * For a module without a start function (the core: scripts/shrink-wasm.mjs
 * moves it into init()), nothing runs while WAMR instantiates it, so the
 * segments may as well be written afterwards, straight from the image (in
 * flash on the device). The copy WAMR gets has the same data section with
 * every segment replaced by an empty passive one: the segment count still
 * matches the DataCount section, and an empty passive segment behaves as an
 * active segment does after instantiation, when it has been dropped
 * (WebAssembly 2.0, 4.5.4 "Instantiation": each active segment is
 * initialised with memory.init, then data.drop), for memory.init and
 * data.drop alike.
 *
 * Anything else (a start function, a passive segment, an offset that is not
 * an i32.const, no data section, a malformed image) is not split: the whole
 * image is copied and WAMR reads and judges it as before.
 *
 * Portable C, no WAMR header: unit-tested on the host (tests/shim) and
 * cross-compiled for the device with the rest of the shim.
 */
#ifndef SHIM_WASM_IMAGE_H
#define SHIM_WASM_IMAGE_H

#include <stdint.h>

typedef struct {
  int split;              /* 1: the copy leaves the segments' bytes out */
  uint32_t copy_size;     /* bytes shim_wasm_image_copy writes */
  uint32_t count;         /* data segments */
  uint32_t data_bytes;    /* bytes of segment data (left out of the copy when split) */
  uint32_t section_at;    /* offset of the data section's id byte in the image */
  uint32_t section_end;   /* offset just past the data section */
  uint32_t payload_at;    /* offset of the first segment (after the count) */
  uint64_t data_end;      /* the furthest byte a segment writes to, plus one */
} shim_wasm_image_t;

/** Reads the image's section list and data section into img. Never fails:
 *  an image it cannot split gets img->split = 0 and copy_size = size. */
void shim_wasm_image_scan(const uint8_t *wasm, uint32_t size, shim_wasm_image_t *img);

/** Writes the module WAMR loads (img->copy_size bytes) to out. */
void shim_wasm_image_copy(const uint8_t *wasm, uint32_t size, const shim_wasm_image_t *img,
                          uint8_t *out);

/** After instantiation of a split image: writes every segment from the
 *  image into the linear memory mem (mem_size bytes). SHIM_OK, or
 *  SHIM_E_INVAL (nothing written) when a segment does not fit, as WAMR's
 *  own instantiation would have refused. Nothing to do when not split. */
int32_t shim_wasm_image_write_data(const uint8_t *wasm, const shim_wasm_image_t *img, uint8_t *mem,
                                   uint32_t mem_size);

#endif /* SHIM_WASM_IMAGE_H */
