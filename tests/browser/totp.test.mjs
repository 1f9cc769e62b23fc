// The harness's TOTP against RFC 6238's SHA-1 test vectors (Appendix B), so a failing MFA
// test points at the product, not at our code generator.

import { test, totp, assertEqual } from './harness.mjs';

// Base32 of the ASCII secret "12345678901234567890".
const SECRET = 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ';

test('totp matches the RFC 6238 SHA-1 vectors', () => {
  const vectors = [
    [59, '94287082'],
    [1111111109, '07081804'],
    [1111111111, '14050471'],
    [1234567890, '89005924'],
    [2000000000, '69279037'],
    [20000000000, '65353130'],
  ];
  for (const [t, want] of vectors) {
    assertEqual(totp(SECRET, t, 8), want, `8-digit code at T=${t}`);
  }
  assertEqual(totp(SECRET, 59), '287082', '6-digit code at T=59');
  assertEqual(totp(SECRET.toLowerCase(), 59), '287082', 'lower-case secret at T=59');
});
