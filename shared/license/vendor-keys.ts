// The vendor public keys this product trusts for licenses. Only public keys live here: the matching private key is
// the vendor's and is not in this repository. Test keys (test/fixtures/license) are never trusted by default; tests
// and the demo pass them explicitly as trustedKeys.

/** SPKI PEM. Key id (keyIdOf): see docs/licensing.md. Add the next key here before the vendor rotates to it. */
export const VENDOR_PUBLIC_KEYS: readonly string[] = [
  `-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAhBnJ3r8LiGlaYqDZ63zEq41hTHwsrY/6m8RQEQegos4=
-----END PUBLIC KEY-----
`,
];
