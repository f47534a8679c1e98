/* AES-GCM known-answer test (see gcm_kat.c). */
#ifndef K3S_GCM_KAT_H
#define K3S_GCM_KAT_H

/** Runs every vector (encrypt + tag, then authenticated decrypt, and a
 *  tampered tag that must be rejected); prints one line per check through
 *  printf. Returns the number of failed checks (0 = pass). */
int k3s_gcm_kat_run(void);

/** Number of checks k3s_gcm_kat_run performs. */
int k3s_gcm_kat_count(void);

#endif
