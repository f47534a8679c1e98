/*
 * Device memory: a fixed region of SHIM_DEVMEM_BYTES bytes that the core
 * fills from ConfigMaps (assembly/devmem/). The host owns it: the core reads
 * it with devmem_read and replaces it whole with devmem_commit, which
 *   1. persists the new image first (port_devmem_store: atomic on every port,
 *      so a power cut leaves the old or the new image, never a mix),
 *   2. then makes it current and drives the outputs bound to addresses whose
 *      on/off state changed (config `devmem.bind.<address> = led | gpio<N>`;
 *      a byte != 0 is "on").
 * At boot (shim_devmem_boot, before the core and the network) the persisted
 * image is loaded and every bound output is driven from it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "port.h"
#include "shim.h"

/* The region as last committed (or loaded at boot). */
static uint8_t shim_devmem_image[SHIM_DEVMEM_BYTES];
/* Scratch for the image being committed: persisted before it becomes current. */
static uint8_t shim_devmem_next[SHIM_DEVMEM_BYTES];

typedef struct {
  uint16_t address;
  uint16_t output; /* SHIM_OUTPUT_LED or a GPIO number */
} shim_devmem_binding_t;

static shim_devmem_binding_t shim_devmem_bindings[SHIM_DEVMEM_BINDINGS_MAX];
static uint32_t shim_devmem_binding_count;

/* GPIOs a binding may drive: the RP2040 has GPIO0..29 (datasheet 2.19); on a
 * Pico W GPIO23/24/25/29 belong to the CYW43439 and are refused (Pico W
 * datasheet 2.1 / 3.1). */
static int shim_devmem_gpio_allowed(long pin) {
  return pin >= 0 && pin <= 28 && !(pin >= 23 && pin <= 25);
}

/* Parses "led" or "gpio<N>"; returns the output id or -1. */
static int32_t shim_devmem_parse_output(const char *v) {
  char *end = NULL;
  long pin;
  if (strcmp(v, "led") == 0) {
    return SHIM_OUTPUT_LED;
  }
  if (strncmp(v, "gpio", 4) != 0 || v[4] < '0' || v[4] > '9') {
    return -1;
  }
  pin = strtol(v + 4, &end, 10);
  if (*end != '\0' || !shim_devmem_gpio_allowed(pin)) {
    return -1;
  }
  return (int32_t)pin;
}

static void shim_devmem_output_name(uint16_t output, char *out, size_t cap) {
  if (output == SHIM_OUTPUT_LED) {
    snprintf(out, cap, "led");
  } else {
    snprintf(out, cap, "gpio%u", (unsigned)output);
  }
}

/* Reads every `devmem.bind.<address>` key of the configuration. */
static int32_t shim_devmem_load_bindings(void) {
  char key[SHIM_CONFIG_MAX_KEY + 1];
  uint32_t a;
  uint32_t i;
  shim_devmem_binding_count = 0;
  for (a = 0; a < SHIM_DEVMEM_BYTES; a++) {
    const char *v;
    int32_t out;
    snprintf(key, sizeof(key), "devmem.bind.%lu", (unsigned long)a);
    v = shim_config_lookup(key);
    if (v == NULL) {
      continue;
    }
    out = shim_devmem_parse_output(v);
    if (out < 0) {
      shim_log(SHIM_LOG_ERROR, "config: %s = \"%s\": expected led or gpio<N> (N 0-22, 26-28)", key,
               v);
      return SHIM_E_INVAL;
    }
    for (i = 0; i < shim_devmem_binding_count; i++) {
      if (shim_devmem_bindings[i].output == (uint16_t)out) {
        shim_log(SHIM_LOG_ERROR, "config: %s: output \"%s\" is already bound to address %u", key,
                 v, (unsigned)shim_devmem_bindings[i].address);
        return SHIM_E_INVAL;
      }
    }
    if (shim_devmem_binding_count == SHIM_DEVMEM_BINDINGS_MAX) {
      shim_log(SHIM_LOG_ERROR, "config: more than %u devmem.bind.* keys",
               (unsigned)SHIM_DEVMEM_BINDINGS_MAX);
      return SHIM_E_TOOLARGE;
    }
    shim_devmem_bindings[shim_devmem_binding_count].address = (uint16_t)a;
    shim_devmem_bindings[shim_devmem_binding_count].output = (uint16_t)out;
    shim_devmem_binding_count++;
  }
  return SHIM_OK;
}

/* Drives bound outputs: all of them (force) or those whose state changed
 * between old and image. */
static void shim_devmem_drive(const uint8_t *old, int force) {
  uint32_t i;
  char name[16];
  for (i = 0; i < shim_devmem_binding_count; i++) {
    const shim_devmem_binding_t *b = &shim_devmem_bindings[i];
    int on = shim_devmem_image[b->address] != 0;
    int32_t rc;
    if (!force && (old[b->address] != 0) == on) {
      continue;
    }
    shim_devmem_output_name(b->output, name, sizeof(name));
    rc = port_output_set(b->output, on);
    if (rc < 0) {
      shim_log(SHIM_LOG_WARN, "devmem: %s (address %u) could not be set: %ld", name,
               (unsigned)b->address, (long)rc);
    } else {
      shim_log(SHIM_LOG_INFO, "devmem: %s %s (address %u = 0x%02X)", name, on ? "on" : "off",
               (unsigned)b->address, (unsigned)shim_devmem_image[b->address]);
    }
  }
}

int32_t shim_devmem_boot(void) {
  int32_t rc = shim_devmem_load_bindings();
  if (rc != SHIM_OK) {
    return rc;
  }
  memset(shim_devmem_image, 0, sizeof(shim_devmem_image));
  rc = port_devmem_load(shim_devmem_image, sizeof(shim_devmem_image));
  if (rc == SHIM_E_NOTFOUND) {
    shim_log(SHIM_LOG_INFO, "devmem: no saved image, %u bytes of zeros", (unsigned)SHIM_DEVMEM_BYTES);
  } else if (rc < 0) {
    /* A damaged image is not applied: start from zeros, the core re-applies
     * the ConfigMaps once it is connected. */
    memset(shim_devmem_image, 0, sizeof(shim_devmem_image));
    shim_log(SHIM_LOG_WARN, "devmem: saved image unreadable (%ld), starting from zeros", (long)rc);
  } else {
    shim_log(SHIM_LOG_INFO, "devmem: restored %u bytes saved before the reboot",
             (unsigned)SHIM_DEVMEM_BYTES);
  }
  shim_devmem_drive(shim_devmem_image, 1);
  return SHIM_OK;
}

const uint8_t *shim_devmem_current(void) {
  return shim_devmem_image;
}

int32_t shim_devmem_read(uint8_t *out, uint32_t cap) {
  if (out == NULL) {
    return SHIM_E_INVAL;
  }
  if (cap < SHIM_DEVMEM_BYTES) {
    return SHIM_E_TOOLARGE;
  }
  memcpy(out, shim_devmem_image, SHIM_DEVMEM_BYTES);
  return (int32_t)SHIM_DEVMEM_BYTES;
}

int32_t shim_devmem_commit(const uint8_t *image, uint32_t len) {
  int32_t rc;
  if (image == NULL || len != SHIM_DEVMEM_BYTES) {
    return SHIM_E_INVAL;
  }
  /* Copy first: the core's buffer is not ours to hold across the store. */
  memcpy(shim_devmem_next, image, SHIM_DEVMEM_BYTES);
  rc = port_devmem_store(shim_devmem_next, SHIM_DEVMEM_BYTES);
  if (rc < 0) {
    shim_log(SHIM_LOG_ERROR, "devmem: saving the image failed (%ld); memory unchanged", (long)rc);
    return rc;
  }
  /* shim_devmem_next becomes current; the old image (now in next) tells
   * which outputs change. */
  {
    uint8_t old[SHIM_DEVMEM_BYTES];
    memcpy(old, shim_devmem_image, SHIM_DEVMEM_BYTES);
    memcpy(shim_devmem_image, shim_devmem_next, SHIM_DEVMEM_BYTES);
    shim_devmem_drive(old, 0);
  }
  return SHIM_OK;
}
