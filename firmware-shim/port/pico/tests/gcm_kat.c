/*
 * AES-GCM known-answer test against Mbed TLS's mbedtls_gcm_* API: guards the
 * gcm.c miscompile seen with arm-none-eabi-gcc 12.2 -O3 on cortex-m0plus
 * (DESIGN.md "Device facts"; Mbed-TLS/TF-PSA-Crypto#665).
 *
 * Vectors: test cases 2, 4 and 16 of McGrew & Viega, "The Galois/Counter Mode
 * of Operation (GCM)", revised submission to NIST (2005), Appendix B
 * (csrc.nist.gov/groups/ST/toolkit/BCM/documents/proposedmodes/gcm/gcm-revised-spec.pdf),
 * the vectors NIST's GCM validation uses: AES-128 one block without AAD,
 * AES-128 with AAD and a partial last block, AES-256 with AAD.
 */
#include <stdio.h>
#include <string.h>

#include "mbedtls/gcm.h"

#include "gcm_kat.h"

typedef struct {
  const char *name;
  const char *key;
  const char *iv;
  const char *aad;
  const char *pt;
  const char *ct;
  const char *tag;
} k3s_gcm_vector_t;

#define K3S_KAT_P4                                                                       \
  "d9313225f88406e5a55909c5aff5269a86a7a9531534f7da2e4c303d8a318a721c3c0c95956809532fcf0e24" \
  "49a6b525b16aedf5aa0de657ba637b39"

static const k3s_gcm_vector_t k3s_gcm_vectors[] = {
    {"tc2 AES-128 16 B", "00000000000000000000000000000000", "000000000000000000000000", "",
     "00000000000000000000000000000000", "0388dace60b6a392f328c2b971b2fe78",
     "ab6e47d42cec13bdf53a67b21257bddf"},
    {"tc4 AES-128 60 B + AAD", "feffe9928665731c6d6a8f9467308308", "cafebabefacedbaddecaf888",
     "feedfacedeadbeeffeedfacedeadbeefabaddad2", K3S_KAT_P4,
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e21d514b25466931c7d8f6a5a"
     "ac84aa051ba30b396a0aac973d58e091",
     "5bc94fbc3221a5db94fae95ae7121a47"},
    {"tc16 AES-256 60 B + AAD",
     "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308",
     "cafebabefacedbaddecaf888", "feedfacedeadbeeffeedfacedeadbeefabaddad2", K3S_KAT_P4,
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa8cb08e48590dbb3da7b08b10"
     "56828838c5f61e6393ba7a0abcc9f662",
     "76fc6ece0f4e1768cddf8853bb2d551b"},
};

#define K3S_KAT_MAX 64
#define K3S_KAT_CHECKS_PER_VECTOR 3

static size_t k3s_unhex(const char *hex, unsigned char *out) {
  size_t n = strlen(hex) / 2;
  size_t i;
  for (i = 0; i < n && i < K3S_KAT_MAX; i++) {
    unsigned v = 0;
    int j;
    for (j = 0; j < 2; j++) {
      char c = hex[2 * i + (size_t)j];
      v = (v << 4) | (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    out[i] = (unsigned char)v;
  }
  return n;
}

static int k3s_check(const char *name, const char *what, int ok) {
  printf("gcm-kat: %s %s: %s\n", ok ? "ok" : "FAIL", name, what);
  return ok ? 0 : 1;
}

int k3s_gcm_kat_count(void) {
  return (int)(sizeof(k3s_gcm_vectors) / sizeof(k3s_gcm_vectors[0])) * K3S_KAT_CHECKS_PER_VECTOR;
}

int k3s_gcm_kat_run(void) {
  unsigned char key[32], iv[12], aad[K3S_KAT_MAX], pt[K3S_KAT_MAX], ct[K3S_KAT_MAX];
  unsigned char tag[16], out[K3S_KAT_MAX], got_tag[16];
  int failed = 0;
  size_t v;

  for (v = 0; v < sizeof(k3s_gcm_vectors) / sizeof(k3s_gcm_vectors[0]); v++) {
    const k3s_gcm_vector_t *t = &k3s_gcm_vectors[v];
    mbedtls_gcm_context gcm;
    size_t klen = k3s_unhex(t->key, key);
    size_t ivlen = k3s_unhex(t->iv, iv);
    size_t alen = k3s_unhex(t->aad, aad);
    size_t plen = k3s_unhex(t->pt, pt);
    int ret;

    (void)k3s_unhex(t->ct, ct);
    (void)k3s_unhex(t->tag, tag);
    mbedtls_gcm_init(&gcm);
    ret = mbedtls_gcm_setkey(&gcm, MBEDTLS_CIPHER_ID_AES, key, (unsigned)(klen * 8));
    memset(out, 0, sizeof(out));
    if (ret == 0) {
      ret = mbedtls_gcm_crypt_and_tag(&gcm, MBEDTLS_GCM_ENCRYPT, plen, iv, ivlen, aad, alen, pt,
                                      out, sizeof(got_tag), got_tag);
    }
    failed += k3s_check(t->name, "ciphertext and tag",
                        ret == 0 && memcmp(out, ct, plen) == 0 &&
                            memcmp(got_tag, tag, sizeof(tag)) == 0);
    memset(out, 0, sizeof(out));
    ret = mbedtls_gcm_auth_decrypt(&gcm, plen, iv, ivlen, aad, alen, tag, sizeof(tag), ct, out);
    failed += k3s_check(t->name, "authenticated decrypt", ret == 0 && memcmp(out, pt, plen) == 0);
    tag[0] ^= 1u;
    ret = mbedtls_gcm_auth_decrypt(&gcm, plen, iv, ivlen, aad, alen, tag, sizeof(tag), ct, out);
    failed += k3s_check(t->name, "tampered tag rejected", ret == MBEDTLS_ERR_GCM_AUTH_FAILED);
    mbedtls_gcm_free(&gcm);
  }
  return failed;
}
