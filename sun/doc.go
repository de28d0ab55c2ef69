// Package sun verifies Secure Unique NFC (SUN) messages produced by the
// Secure Dynamic Messaging (SDM) feature of NXP NTAG 424 DNA tags, in AES and
// LRP mode, and derives tag keys with the common key-derivation schemes.
//
// It holds the primitives (AES-CMAC per RFC 4493, the Leakage Resilient
// Primitive and its CMAC and LRICB modes per AN12304), the SDM session-key
// derivation, PICCData and SDMENCFileData decryption, MAC truncation,
// parsing of SUN URLs with the MAC input cut from the raw URL, and the key
// derivation functions an10922, sdm-standard, sdm-legacy and boltcard.
//
// The package uses only the standard library. A Profile expands its keys
// once, so that verifying a tap does no key setup for static keys.
package sun
