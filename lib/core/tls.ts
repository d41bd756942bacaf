/**
 * TLS choices shared by nginx and coturn.
 *
 * Mozilla's "intermediate" TLS 1.2 suites (OpenSSL names), without the DHE ones: forward-secret
 * AEAD with ECDHE only, so no dhparam file is needed and no client of ours misses anything.
 */
export const ECDHE_AEAD_CIPHERS = [
  'ECDHE-ECDSA-AES128-GCM-SHA256',
  'ECDHE-RSA-AES128-GCM-SHA256',
  'ECDHE-ECDSA-AES256-GCM-SHA384',
  'ECDHE-RSA-AES256-GCM-SHA384',
  'ECDHE-ECDSA-CHACHA20-POLY1305',
  'ECDHE-RSA-CHACHA20-POLY1305',
].join(':');
