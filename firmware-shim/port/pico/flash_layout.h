/*
 * The Pico W's 2 MiB flash, named once. The firmware (C), the UF2 writer
 * (tools/uf2/uf2.mjs reads the FLASH_* defines below from this file) and the
 * config tool use these numbers; change them here only.
 *
 * Offsets are from the start of flash; the RP2040 maps flash at XIP_BASE
 * 0x10000000 (RP2040 datasheet section 2.6.3). Every region starts on a 4 KiB
 * erase sector (datasheet section 4.10, W25Q16JV sector erase) and is a whole
 * number of 256-byte program pages, so each can be erased and written alone.
 *
 *   0x000000  firmware slot A      704 KiB  (payload budget 700 KB, DESIGN.md)
 *   0x0B0000  firmware slot B      704 KiB  (reserved: a second image for updates)
 *   0x160000  core.wasm slot 0     128 KiB  (header + module: the core is ~64 KB, its
 *                                          budget 32 KB; 64 KiB slots were outgrown)
 *   0x180000  core.wasm slot 1     128 KiB  (reserved: the next core, swapped on update)
 *   0x1A0000  config region         64 KiB  (header + key = value text + TLS material)
 *   0x1B0000  storage region       320 KiB  (device storage, up to the end of flash)
 *
 * Two complete images (firmware + core) fit: 2 x (704 + 128) KiB = 1664 KiB.
 */
#ifndef K3S_PICO_FLASH_LAYOUT_H
#define K3S_PICO_FLASH_LAYOUT_H

/* Where flash appears in the address space (RP2040 datasheet 2.6.3). */
#define FLASH_XIP_BASE 0x10000000u
/* Pico W: W25Q16JV, 2 MiB (Pico W datasheet section 2.1). */
#define FLASH_TOTAL_BYTES 0x200000u
#define FLASH_SECTOR_BYTES 0x1000u
#define FLASH_PAGE_BYTES 0x100u

#define FLASH_FIRMWARE_OFFSET 0x000000u
#define FLASH_FIRMWARE_BYTES 0x0B0000u
#define FLASH_FIRMWARE_B_OFFSET 0x0B0000u
#define FLASH_FIRMWARE_B_BYTES 0x0B0000u
#define FLASH_CORE_OFFSET 0x160000u
#define FLASH_CORE_BYTES 0x020000u
#define FLASH_CORE_B_OFFSET 0x180000u
#define FLASH_CORE_B_BYTES 0x020000u
#define FLASH_CONFIG_OFFSET 0x1A0000u
#define FLASH_CONFIG_BYTES 0x010000u
#define FLASH_STORAGE_OFFSET 0x1B0000u
#define FLASH_STORAGE_BYTES 0x050000u

/*
 * core.wasm slot: a 16-byte header, then the module.
 *   u32 magic     FLASH_CORE_MAGIC
 *   u32 length    module bytes that follow
 *   u32 crc32     CRC-32 (IEEE 802.3, reflected, poly 0xEDB88320, as zlib) of them
 *   u32 sequence  grows with each update (the newer valid slot wins)
 * All little-endian. An erased slot reads 0xFFFFFFFF: no magic, no module.
 */
#define FLASH_CORE_MAGIC 0x4D53414Bu /* "KASM" in little-endian bytes */
#define FLASH_CORE_HEADER_BYTES 16u

/*
 * Config region: a 24-byte header, the config text, then TLS material.
 *   u32 magic     FLASH_CONFIG_MAGIC
 *   u32 version   FLASH_CONFIG_VERSION
 *   u32 text_len  bytes of `key = value` text (the simulator's format, src/config.c)
 *   u32 tlv_len   bytes of TLV records after the text
 *   u32 crc32     CRC-32 (as above) of text + TLV bytes
 *   u32 reserved  0
 * TLV record: u16 type, u16 reserved (0), u32 length, then `length` bytes,
 * padded with zeros to a multiple of 4. Types: FLASH_TLV_*. PEM values end
 * with their NUL (Mbed TLS counts it in the length), so they parse in place
 * from flash without a copy.
 */
#define FLASH_CONFIG_MAGIC 0x4650434Bu /* "KCPF" */
#define FLASH_CONFIG_VERSION 1u
#define FLASH_CONFIG_HEADER_BYTES 24u
#define FLASH_TLV_CA_PEM 1u   /* CA bundle: the server is verified against it */
#define FLASH_TLV_CERT_PEM 2u /* the node's client certificate (chain) */
#define FLASH_TLV_KEY_PEM 3u  /* the node's private key: never given to the core */
#define FLASH_TLV_WIFI_PSK 4u /* Wi-Fi passphrase (wifi.password), NUL-terminated: kept
                               * out of the config text so the core cannot read it */
#define FLASH_TLV_CLIENT_CA_PEM 5u /* the cluster's client CA: the kubelet endpoint's
                                    * clients are verified against it */

/*
 * Device memory (ConfigMaps, port/pico/devmem.c): the first two sectors of the
 * storage region, one image slot each (header + SHIM_DEVMEM_BYTES), written
 * alternately so a power cut always leaves one valid image.
 */
#define FLASH_DEVMEM_OFFSET FLASH_STORAGE_OFFSET
#define FLASH_DEVMEM_BYTES 0x2000u
/* Each slot: u32 magic, u32 sequence, u32 length, u32 crc32, then the image
 * (port/pico/devmem.c). */
#define FLASH_DEVMEM_MAGIC 0x4D56444Bu /* "KDVM" */
#define FLASH_DEVMEM_HEADER_BYTES 16u

/*
 * Node state record store (port/pico/store.c): after the device memory, 36
 * sectors for keys, certificate chains and the k3s node password, each kind
 * in FLASH_STORE_COPIES round-robin copies (wear spreads over them; a torn
 * write leaves the previous copy). Per kind, sectors per copy x copies:
 *   client key 1 x 4, serving key 1 x 4, client chain 3 x 4 (a chain up to
 *   SHIM_CERT_STAGE_MAX = 8 KiB of PEM), serving chain 3 x 4, node password
 *   1 x 4. The rest of the storage region (0x1D6000..) is free.
 */
#define FLASH_STORE_OFFSET 0x1B2000u
#define FLASH_STORE_BYTES 0x024000u
#define FLASH_STORE_COPIES 4u

#endif /* K3S_PICO_FLASH_LAYOUT_H */
