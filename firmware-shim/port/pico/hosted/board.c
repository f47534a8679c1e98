/*
 * Hosted board: the RP2040 facilities port/pico uses, on Linux, so that the
 * device's own code (the port/pico sources, lwIP, Mbed TLS, WAMR with the device's
 * limits, 32-bit) runs unchanged against a real cluster:
 *   - flash: PICO_HOSTED_FLASH names a FLASH_TOTAL_BYTES image file, mapped
 *     read-only at XIP_BASE as the chip maps it (a stray store faults);
 *     erase and program write the file with the chip's rules (sector-aligned
 *     erase to 0xFF, page-aligned program that only clears bits);
 *   - timer: CLOCK_MONOTONIC since start (time_us_64);
 *   - watchdog: SIGALRM after the period unless fed; a reset (or
 *     watchdog_reboot) executes the program again, as the board restarts;
 *   - unique ID: PICO_HOSTED_BOARD_ID (16 hex digits);
 *   - entropy: getrandom(2) where the chip has its ring oscillator;
 *   - GPIO outputs: a word.
 * Nothing here is linked into the firmware (port/pico/hosted/README.md).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "arch/cc.h"
#include "hardware/flash.h"
#include "hardware/gpio.h"
#include "hardware/regs/addressmap.h"
#include "hardware/watchdog.h"
#include "pico/flash.h"
#include "pico/stdlib.h"
#include "pico/unique_id.h"

#include "flash_layout.h"

/* The one argument a restart by the watchdog passes (main takes none). */
#define HOSTED_WATCHDOG_ARG "watchdog-reset"

static uint64_t hosted_boot_us;
static int hosted_flash_fd = -1;
static char *hosted_argv[3]; /* the program, HOSTED_WATCHDOG_ARG or NULL, NULL */
static bool hosted_watchdog_reset;
static uint32_t hosted_gpio_out;

static uint64_t hosted_mono_us(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static void hosted_die(const char *what) {
  fprintf(stderr, "hosted board: %s\n", what);
  exit(2);
}

/* Runs before main (glibc passes argc/argv/envp to constructors): the
 * timer starts and flash appears at XIP_BASE. */
__attribute__((constructor)) static void hosted_board_start(int argc, char **argv, char **envp) {
  const char *path = getenv("PICO_HOSTED_FLASH");
  struct stat st;
  void *at;
  (void)envp;
  hosted_argv[0] = argv[0];
  hosted_watchdog_reset = argc > 1 && strcmp(argv[1], HOSTED_WATCHDOG_ARG) == 0;
  hosted_boot_us = hosted_mono_us();
  /* The power goes with the process that started the board (a SIGKILLed
   * wrapper cannot pass its signal on). */
  (void)prctl(PR_SET_PDEATHSIG, SIGKILL);
  if (path == NULL) {
    hosted_die("PICO_HOSTED_FLASH must name the flash image (scripts/pico-hosted.mjs writes one)");
  }
  hosted_flash_fd = open(path, O_RDWR | O_CLOEXEC);
  if (hosted_flash_fd < 0 || fstat(hosted_flash_fd, &st) != 0 ||
      st.st_size != (off_t)FLASH_TOTAL_BYTES) {
    hosted_die("PICO_HOSTED_FLASH is not a readable flash image of FLASH_TOTAL_BYTES bytes");
  }
  at = mmap((void *)(uintptr_t)XIP_BASE, FLASH_TOTAL_BYTES, PROT_READ,
            MAP_SHARED | MAP_FIXED_NOREPLACE, hosted_flash_fd, 0);
  if (at != (void *)(uintptr_t)XIP_BASE) {
    hosted_die("cannot map the flash image at XIP_BASE (0x10000000)");
  }
}

/* ---- time ---- */

uint64_t time_us_64(void) {
  return hosted_mono_us() - hosted_boot_us;
}

void sleep_ms(uint32_t ms) {
  struct timespec ts = {(time_t)(ms / 1000u), (long)(ms % 1000u) * 1000000L};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

/* lwIP's clock (NO_SYS). */
uint32_t sys_now(void) {
  return (uint32_t)(time_us_64() / 1000u);
}

/* One thread, as with pico_cyw43_arch_lwip_poll: nothing to protect. */
sys_prot_t sys_arch_protect(void) {
  return 0;
}

void sys_arch_unprotect(sys_prot_t pval) {
  (void)pval;
}

/* ---- USB serial: stdout, line-buffered through a 1 KiB buffer from the
 * heap as newlib's stdio takes one ---- */

bool stdio_init_all(void) {
  return setvbuf(stdout, NULL, _IOLBF, 1024) == 0;
}

/* ---- flash ---- */

static void hosted_flash_check(uint32_t offs, size_t count, uint32_t align, const char *what) {
  if (offs % align != 0 || count % align != 0 || offs > FLASH_TOTAL_BYTES ||
      count > FLASH_TOTAL_BYTES - offs) {
    fprintf(stderr, "hosted board: %s of %zu bytes at 0x%06x is not %u-aligned inside flash\n",
            what, count, (unsigned)offs, (unsigned)align);
    abort(); /* the SDK would program the wrong bytes: stop loudly */
  }
}

void flash_range_erase(uint32_t flash_offs, size_t count) {
  static uint8_t erased[FLASH_SECTOR_SIZE];
  size_t done;
  hosted_flash_check(flash_offs, count, FLASH_SECTOR_SIZE, "erase");
  memset(erased, 0xff, sizeof(erased));
  for (done = 0; done < count; done += FLASH_SECTOR_SIZE) {
    if (pwrite(hosted_flash_fd, erased, FLASH_SECTOR_SIZE, (off_t)(flash_offs + done)) !=
        (ssize_t)FLASH_SECTOR_SIZE) {
      hosted_die("flash image write failed");
    }
  }
}

void flash_range_program(uint32_t flash_offs, const uint8_t *data, size_t count) {
  static uint8_t page[FLASH_PAGE_SIZE];
  const uint8_t *now = (const uint8_t *)(uintptr_t)XIP_BASE;
  size_t done;
  size_t i;
  hosted_flash_check(flash_offs, count, FLASH_PAGE_SIZE, "program");
  for (done = 0; done < count; done += FLASH_PAGE_SIZE) {
    for (i = 0; i < FLASH_PAGE_SIZE; i++) {
      page[i] = now[flash_offs + done + i] & data[done + i]; /* NOR: 1 -> 0 only */
    }
    if (pwrite(hosted_flash_fd, page, FLASH_PAGE_SIZE, (off_t)(flash_offs + done)) !=
        (ssize_t)FLASH_PAGE_SIZE) {
      hosted_die("flash image write failed");
    }
  }
}

int flash_safe_execute(void (*func)(void *), void *param, uint32_t enter_exit_timeout_ms) {
  (void)enter_exit_timeout_ms;
  func(param);
  return PICO_OK;
}

/* ---- watchdog ---- */

/* Executes the program again (from the signal handler too: write and execv
 * are async-signal-safe). */
static void hosted_restart(int by_watchdog) {
  static const char msg[] = "hosted board: watchdog reset\n";
  if (by_watchdog) {
    (void)!write(STDERR_FILENO, msg, sizeof(msg) - 1);
  }
  hosted_argv[1] = by_watchdog ? HOSTED_WATCHDOG_ARG : NULL;
  fflush(stdout);
  execv("/proc/self/exe", hosted_argv);
  _exit(3);
}

static void hosted_watchdog_fired(int sig) {
  (void)sig;
  hosted_restart(1);
}

static uint32_t hosted_watchdog_ms;

void watchdog_enable(uint32_t delay_ms, bool pause_on_debug) {
  (void)pause_on_debug;
  hosted_watchdog_ms = delay_ms;
  signal(SIGALRM, hosted_watchdog_fired);
  watchdog_update();
}

void watchdog_update(void) {
  struct itimerval t;
  if (hosted_watchdog_ms == 0) {
    return;
  }
  memset(&t, 0, sizeof(t));
  t.it_value.tv_sec = hosted_watchdog_ms / 1000u;
  t.it_value.tv_usec = (suseconds_t)(hosted_watchdog_ms % 1000u) * 1000;
  setitimer(ITIMER_REAL, &t, NULL);
}

bool watchdog_caused_reboot(void) {
  return hosted_watchdog_reset;
}

void watchdog_reboot(uint32_t pc, uint32_t sp, uint32_t delay_ms) {
  (void)pc;
  (void)sp;
  sleep_ms(delay_ms);
  hosted_restart(0);
}

/* ---- GPIO ---- */

void gpio_init(unsigned gpio) {
  hosted_gpio_out &= ~(1u << gpio);
}

void gpio_set_dir(unsigned gpio, bool out) {
  (void)gpio;
  (void)out;
}

void gpio_put(unsigned gpio, bool value) {
  hosted_gpio_out = value ? hosted_gpio_out | (1u << gpio) : hosted_gpio_out & ~(1u << gpio);
}

/* ---- identity and entropy ---- */

void pico_get_unique_board_id(pico_unique_board_id_t *id_out) {
  const char *hex = getenv("PICO_HOSTED_BOARD_ID");
  size_t i;
  memset(id_out->id, 0, sizeof(id_out->id));
  for (i = 0; hex != NULL && i < 2 * sizeof(id_out->id) && hex[i] != '\0'; i++) {
    char c = hex[i];
    unsigned v = c >= '0' && c <= '9' ? (unsigned)(c - '0') : (unsigned)((c | 0x20) - 'a' + 10) & 15u;
    id_out->id[i / 2] = (uint8_t)(id_out->id[i / 2] << 4 | v);
  }
}

static void hosted_random(void *buf, size_t len) {
  uint8_t *p = buf;
  while (len > 0) {
    ssize_t n = getrandom(p, len, 0);
    if (n < 0 && errno == EINTR) {
      continue;
    }
    if (n <= 0) {
      hosted_die("getrandom failed");
    }
    p += n;
    len -= (size_t)n;
  }
}

/* MBEDTLS_ENTROPY_HARDWARE_ALT: pico_mbedtls.c feeds get_rand_64 here on
 * the device. */
int mbedtls_hardware_poll(void *data, unsigned char *output, size_t len, size_t *olen);
int mbedtls_hardware_poll(void *data, unsigned char *output, size_t len, size_t *olen) {
  (void)data;
  hosted_random(output, len);
  *olen = len;
  return 0;
}

uint32_t hosted_rand32(void) {
  uint32_t v;
  hosted_random(&v, sizeof(v));
  return v;
}
