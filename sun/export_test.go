package sun

import (
	"crypto/aes"
	"crypto/cipher"
	"testing"
)

// mustAES expands an AES key or fails the test.
func mustAES(t testing.TB, key []byte) cipher.Block {
	t.Helper()
	b, err := aes.NewCipher(key)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// decryptPICCForTest returns the decrypted PICCData.
func (p *Profile) decryptPICCForTest(picc []byte) [16]byte {
	s := new(scratch)
	p.decryptPICC(s, picc)
	return s.picc
}

// aesSessionKeysForTest returns SV1, SV2 and the ENC and MAC session keys
// for the UID and counter of r.
func aesSessionKeysForTest(t testing.TB, f *cmacKey, r *Result) (sv1, sv2, enc, mac [16]byte) {
	aesSessionVector(&sv1, 0xC3, 0x3C, r)
	aesSessionVector(&sv2, 0x3C, 0xC3, r)
	cmacSum(f, &enc, sv1[:])
	cmacSum(f, &mac, sv2[:])
	return
}
