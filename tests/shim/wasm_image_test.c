/*
 * The WAMR adapter's image splitter (firmware-shim/runtime/wamr/wasm_image.c)
 * on hand-made modules: what is split and what is not, the copy's bytes, the
 * segments written into memory, segments that do not fit.
 *   wasm_image_test                       the checks, "ok - ..." lines
 *   wasm_image_test FILE COPY MEM BYTES   splits FILE: writes the copy WAMR
 *       would load to COPY and a BYTES-long zeroed memory with the segments
 *       written to MEM (tests/shim/run.sh compares them, for the real core,
 *       with what a WebAssembly engine makes of the whole module)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/wamr/wasm_image.h"
#include "shim_abi.h"

static int failures;

static void check(int cond, const char *what) {
  printf("%s - wasm_image: %s\n", cond ? "ok" : "not ok", what);
  if (!cond) {
    failures++;
  }
}

#define PREAMBLE 0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00
/* memory section: one memory, 1 page */
#define MEMORY_SECTION 0x05, 0x03, 0x01, 0x00, 0x01
/* custom section "n" with one byte */
#define CUSTOM_SECTION 0x00, 0x03, 0x01, 'n', 0x7f

/* Two active segments: "abc" at 16 (flags 0), "xy" at 200 (flags 2, memory 0). */
static const uint8_t two_segments[] = {
    PREAMBLE, MEMORY_SECTION,
    0x0b, 0x12, 0x02,
    0x00, 0x41, 0x10, 0x0b, 0x03, 'a', 'b', 'c',
    0x02, 0x00, 0x41, 0xc8, 0x01, 0x0b, 0x02, 'x', 'y',
    CUSTOM_SECTION,
};

static void test_split(void) {
  shim_wasm_image_t img;
  uint8_t copy[sizeof(two_segments)];
  uint8_t mem[256];
  static const uint8_t expected[] = {PREAMBLE, MEMORY_SECTION, 0x0b, 0x05, 0x02, 0x01, 0x00, 0x01,
                                     0x00, CUSTOM_SECTION};
  shim_wasm_image_scan(two_segments, sizeof(two_segments), &img);
  check(img.split == 1 && img.count == 2 && img.data_bytes == 5, "active segments are split");
  check(img.copy_size == sizeof(expected), "copy size: the data section with empty segments");
  memset(copy, 0xee, sizeof(copy));
  shim_wasm_image_copy(two_segments, sizeof(two_segments), &img, copy);
  check(memcmp(copy, expected, sizeof(expected)) == 0,
        "copy: sections before and after kept, segments empty and passive");
  memset(mem, 0, sizeof(mem));
  check(shim_wasm_image_write_data(two_segments, &img, mem, sizeof(mem)) == SHIM_OK,
        "segments written");
  check(memcmp(mem + 16, "abc", 3) == 0 && memcmp(mem + 200, "xy", 2) == 0 && mem[15] == 0 &&
            mem[19] == 0 && mem[202] == 0,
        "segments at their offsets, nothing else touched");
  memset(mem, 0, sizeof(mem));
  check(shim_wasm_image_write_data(two_segments, &img, mem, 201) == SHIM_E_INVAL,
        "a segment past the memory's end is refused");
  check(mem[16] == 0, "all or nothing: the segment that fits was not written either");
}

static void expect_whole(const uint8_t *wasm, uint32_t size, const char *what) {
  shim_wasm_image_t img;
  uint8_t copy[64];
  uint8_t mem[16] = {0};
  shim_wasm_image_scan(wasm, size, &img);
  memset(copy, 0, sizeof(copy));
  if (img.copy_size == size && size <= sizeof(copy)) {
    shim_wasm_image_copy(wasm, size, &img, copy);
  }
  check(img.split == 0 && img.copy_size == size && memcmp(copy, wasm, size) == 0 &&
            shim_wasm_image_write_data(wasm, &img, mem, sizeof(mem)) == SHIM_OK && mem[0] == 0,
        what);
}

static void test_not_split(void) {
  static const uint8_t start[] = {PREAMBLE, MEMORY_SECTION, 0x08, 0x01, 0x00,
                                  0x0b, 0x07, 0x01, 0x00, 0x41, 0x00, 0x0b, 0x01, 'a'};
  static const uint8_t passive[] = {PREAMBLE, MEMORY_SECTION, 0x0b, 0x04, 0x01, 0x01, 0x01, 'a'};
  static const uint8_t global_offset[] = {PREAMBLE, MEMORY_SECTION,
                                          0x0b, 0x07, 0x01, 0x00, 0x23, 0x00, 0x0b, 0x01, 'a'};
  static const uint8_t other_memory[] = {PREAMBLE, MEMORY_SECTION,
                                         0x0b, 0x08, 0x01, 0x02, 0x01, 0x41, 0x00, 0x0b, 0x01, 'a'};
  static const uint8_t no_data[] = {PREAMBLE, MEMORY_SECTION};
  static const uint8_t truncated[] = {PREAMBLE, MEMORY_SECTION, 0x0b, 0x09, 0x01, 0x00, 0x41};
  static const uint8_t segment_overrun[] = {PREAMBLE, MEMORY_SECTION,
                                            0x0b, 0x07, 0x01, 0x00, 0x41, 0x00, 0x0b, 0x05, 'a'};
  static const uint8_t trailing[] = {PREAMBLE, MEMORY_SECTION,
                                     0x0b, 0x08, 0x01, 0x00, 0x41, 0x00, 0x0b, 0x01, 'a', 0x00};
  static const uint8_t bad_magic[] = {0x00, 0x61, 0x73, 0x6e, 0x01, 0x00, 0x00, 0x00};
  static const uint8_t long_leb[] = {PREAMBLE, 0x0b, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00};
  expect_whole(start, sizeof(start), "a start function: whole image (it could read the data)");
  expect_whole(passive, sizeof(passive), "a passive segment: whole image");
  expect_whole(global_offset, sizeof(global_offset), "an offset from a global: whole image");
  expect_whole(other_memory, sizeof(other_memory), "a segment for memory 1: whole image");
  expect_whole(no_data, sizeof(no_data), "no data section: whole image");
  expect_whole(truncated, sizeof(truncated), "a section past the end: whole image");
  expect_whole(segment_overrun, sizeof(segment_overrun), "a segment past its section: whole image");
  expect_whole(trailing, sizeof(trailing), "bytes after the last segment: whole image");
  expect_whole(bad_magic, sizeof(bad_magic), "not a WebAssembly module: whole image");
  expect_whole(long_leb, sizeof(long_leb), "an over-long LEB128 size: whole image");
  expect_whole(bad_magic, 4, "shorter than the preamble: whole image");
}

static void test_negative_offset(void) {
  /* i32.const -1 (0x7f): an offset no memory holds. */
  static const uint8_t negative[] = {PREAMBLE, MEMORY_SECTION,
                                     0x0b, 0x07, 0x01, 0x00, 0x41, 0x7f, 0x0b, 0x01, 'a'};
  shim_wasm_image_t img;
  uint8_t mem[16] = {0};
  shim_wasm_image_scan(negative, sizeof(negative), &img);
  check(img.split == 1 && shim_wasm_image_write_data(negative, &img, mem, sizeof(mem)) == SHIM_E_INVAL,
        "a negative offset is refused when written");
}

static uint8_t *read_file(const char *path, uint32_t *size) {
  FILE *f = fopen(path, "rb");
  uint8_t *buf;
  long n;
  if (f == NULL || fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) <= 0 || fseek(f, 0, SEEK_SET) != 0) {
    if (f != NULL) {
      fclose(f);
    }
    return NULL;
  }
  buf = malloc((size_t)n);
  if (buf != NULL && fread(buf, 1, (size_t)n, f) != (size_t)n) {
    free(buf);
    buf = NULL;
  }
  fclose(f);
  *size = (uint32_t)n;
  return buf;
}

static int write_file(const char *path, const uint8_t *buf, uint32_t size) {
  FILE *f = fopen(path, "wb");
  int ok = f != NULL && fwrite(buf, 1, size, f) == size;
  if (f != NULL && fclose(f) != 0) {
    ok = 0;
  }
  return ok;
}

static int split_file(const char *in, const char *copy_path, const char *mem_path, uint32_t mem_size) {
  shim_wasm_image_t img;
  uint32_t size = 0;
  uint8_t *wasm = read_file(in, &size);
  uint8_t *copy;
  uint8_t *mem;
  int ok;
  if (wasm == NULL) {
    fprintf(stderr, "cannot read %s\n", in);
    return 2;
  }
  shim_wasm_image_scan(wasm, size, &img);
  copy = malloc(img.copy_size);
  mem = calloc(1, mem_size);
  if (copy == NULL || mem == NULL) {
    return 2;
  }
  shim_wasm_image_copy(wasm, size, &img, copy);
  ok = img.split && shim_wasm_image_write_data(wasm, &img, mem, mem_size) == SHIM_OK &&
       write_file(copy_path, copy, img.copy_size) && write_file(mem_path, mem, mem_size);
  printf("split=%d size=%lu copy=%lu segments=%lu data=%lu\n", img.split, (unsigned long)size,
         (unsigned long)img.copy_size, (unsigned long)img.count, (unsigned long)img.data_bytes);
  free(wasm);
  free(copy);
  free(mem);
  return ok ? 0 : 1;
}

int main(int argc, char **argv) {
  if (argc == 5) {
    return split_file(argv[1], argv[2], argv[3], (uint32_t)strtoul(argv[4], NULL, 10));
  }
  test_split();
  test_not_split();
  test_negative_offset();
  return failures == 0 ? 0 : 1;
}
