/*
 * Splits the core's module image for WAMR's RAM copy: see wasm_image.h.
 * Binary format facts from the WebAssembly 2.0 specification, 5.5
 * "Modules": the preamble (magic "\0asm", version 1), sections as id byte +
 * u32 LEB128 size, start section id 8, data section id 11, data segment
 * flags 0 (active, memory 0, offset expression), 1 (passive), 2 (active,
 * explicit memory index); an offset expression i32.const (0x41) n end (0x0b).
 */
#include <string.h>

#include "runtime/wamr/wasm_image.h"
#include "shim_abi.h"

#define WASM_SECTION_START 8u
#define WASM_SECTION_DATA 11u
#define WASM_OP_I32_CONST 0x41u
#define WASM_OP_END 0x0bu
#define WASM_DATA_ACTIVE 0u
#define WASM_DATA_PASSIVE 1u
#define WASM_DATA_ACTIVE_MEMIDX 2u
#define WASM_PREAMBLE_BYTES 8u

typedef struct {
  const uint8_t *p;
  uint32_t at;
  uint32_t end;
  int bad;
} reader_t;

static uint8_t read_byte(reader_t *r) {
  if (r->bad || r->at >= r->end) {
    r->bad = 1;
    return 0;
  }
  return r->p[r->at++];
}

/* Unsigned LEB128, at most 5 bytes for a u32. */
static uint32_t read_u32(reader_t *r) {
  uint32_t v = 0;
  unsigned shift;
  for (shift = 0; shift < 35u; shift += 7u) {
    uint8_t b = read_byte(r);
    if (shift == 28u && (b & 0x70u) != 0u) {
      r->bad = 1;
    }
    v |= (uint32_t)(b & 0x7fu) << shift;
    if ((b & 0x80u) == 0u) {
      return v;
    }
  }
  r->bad = 1;
  return 0;
}

/* Signed LEB128 for an i32 (at most 5 bytes); the value as u32 bits. */
static uint32_t read_s32(reader_t *r) {
  uint32_t v = 0;
  unsigned shift = 0;
  uint8_t b;
  do {
    if (shift >= 35u) {
      r->bad = 1;
      return 0;
    }
    b = read_byte(r);
    v |= (uint32_t)(b & 0x7fu) << shift;
    shift += 7u;
  } while ((b & 0x80u) != 0u && !r->bad);
  if (shift < 32u && (b & 0x40u) != 0u) {
    v |= ~0u << shift;
  }
  return v;
}

/* Skips len bytes. */
static void skip(reader_t *r, uint32_t len) {
  if (r->bad || len > r->end - r->at) {
    r->bad = 1;
    return;
  }
  r->at += len;
}

/* Bytes of v as u32 LEB128. */
static uint32_t leb_size(uint32_t v) {
  uint32_t n = 1;
  while (v >= 0x80u) {
    v >>= 7;
    n++;
  }
  return n;
}

static uint8_t *write_leb(uint8_t *out, uint32_t v) {
  while (v >= 0x80u) {
    *out++ = (uint8_t)(v | 0x80u);
    v >>= 7;
  }
  *out++ = (uint8_t)v;
  return out;
}

/* Reads one segment's head up to its bytes; 0 when it cannot be split
 * (passive, another memory, an offset that is not a constant). */
static int read_segment(reader_t *r, uint32_t *offset, uint32_t *len) {
  uint32_t flags = read_u32(r);
  if (flags == WASM_DATA_ACTIVE_MEMIDX) {
    if (read_u32(r) != 0u) {
      return 0;
    }
  } else if (flags != WASM_DATA_ACTIVE) {
    return 0;
  }
  if (read_byte(r) != WASM_OP_I32_CONST) {
    return 0;
  }
  *offset = read_s32(r);
  if (read_byte(r) != WASM_OP_END) {
    return 0;
  }
  *len = read_u32(r);
  return !r->bad;
}

/* The rewritten data section: id, size, count, then per segment passive
 * (flags 1) with no bytes (length 0). */
static uint32_t empty_section_size(uint32_t count) {
  uint32_t payload = leb_size(count) + 2u * count;
  return 1u + leb_size(payload) + payload;
}

void shim_wasm_image_scan(const uint8_t *wasm, uint32_t size, shim_wasm_image_t *img) {
  static const uint8_t preamble[WASM_PREAMBLE_BYTES] = {0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00};
  reader_t r;
  int has_start = 0;
  int has_data = 0;
  uint32_t i;

  memset(img, 0, sizeof(*img));
  img->copy_size = size;
  if (wasm == NULL || size < WASM_PREAMBLE_BYTES || memcmp(wasm, preamble, sizeof(preamble)) != 0) {
    return;
  }
  r.p = wasm;
  r.at = WASM_PREAMBLE_BYTES;
  r.end = size;
  r.bad = 0;
  while (r.at < r.end && !r.bad) {
    uint32_t at = r.at;
    uint8_t id = read_byte(&r);
    uint32_t len = read_u32(&r);
    uint32_t body = r.at;
    skip(&r, len);
    if (r.bad) {
      return;
    }
    if (id == WASM_SECTION_START) {
      has_start = 1;
    } else if (id == WASM_SECTION_DATA) {
      if (has_data) {
        return;
      }
      has_data = 1;
      img->section_at = at;
      img->section_end = r.at;
      r.at = body;
      r.end = img->section_end;
      img->count = read_u32(&r);
      img->payload_at = r.at;
      for (i = 0; i < img->count && !r.bad; i++) {
        uint32_t offset;
        uint32_t seg_len;
        if (!read_segment(&r, &offset, &seg_len)) {
          return;
        }
        skip(&r, seg_len);
        img->data_bytes += seg_len;
        if ((uint64_t)offset + seg_len > img->data_end) {
          img->data_end = (uint64_t)offset + seg_len;
        }
      }
      if (r.bad || r.at != img->section_end) {
        return;
      }
      r.end = size;
    }
  }
  if (r.bad || has_start || !has_data) {
    return;
  }
  img->split = 1;
  img->copy_size = img->section_at + empty_section_size(img->count) + (size - img->section_end);
}

void shim_wasm_image_copy(const uint8_t *wasm, uint32_t size, const shim_wasm_image_t *img,
                          uint8_t *out) {
  uint32_t i;
  if (!img->split) {
    memcpy(out, wasm, size);
    return;
  }
  memcpy(out, wasm, img->section_at);
  out += img->section_at;
  *out++ = (uint8_t)WASM_SECTION_DATA;
  out = write_leb(out, leb_size(img->count) + 2u * img->count);
  out = write_leb(out, img->count);
  for (i = 0; i < img->count; i++) {
    *out++ = (uint8_t)WASM_DATA_PASSIVE;
    *out++ = 0u;
  }
  memcpy(out, wasm + img->section_end, size - img->section_end);
}

int32_t shim_wasm_image_write_data(const uint8_t *wasm, const shim_wasm_image_t *img, uint8_t *mem,
                                   uint32_t mem_size) {
  reader_t r;
  uint32_t i;
  if (!img->split) {
    return SHIM_OK;
  }
  /* All or nothing: scan found where the segments end. */
  if (img->data_end > mem_size) {
    return SHIM_E_INVAL;
  }
  r.p = wasm;
  r.at = img->payload_at;
  r.end = img->section_end;
  r.bad = 0;
  for (i = 0; i < img->count; i++) {
    uint32_t offset = 0;
    uint32_t len = 0;
    (void)read_segment(&r, &offset, &len); /* scan checked every one */
    if (len > 0u) {
      memcpy(mem + offset, wasm + r.at, len);
    }
    r.at += len;
  }
  return SHIM_OK;
}
