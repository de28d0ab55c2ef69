//go:build (!amd64 && !arm64) || purego

package sun

// Single-use AES-128 block operations for LRP (AN12304), which derives a
// fresh key at every step, so each call expands its key and processes one
// block without allocating. amd64 and arm64 use the CPU's AES instructions
// (aes128_amd64.go, aes128_arm64.go); this file serves every other
// architecture, and the purego build tag, with the portable code in
// aes128_generic.go.

// haveAESAsm reports whether encryptBlock and decryptBlock use assembly.
const haveAESAsm = false

// encryptBlock encrypts src into dst under an AES-128 key that is used once
// (LRP derives a new key at every step). dst may alias key or src.
func encryptBlock(key, dst, src *[16]byte) {
	encryptBlockGeneric(key, dst, src)
}

// decryptBlock decrypts src into dst under an AES-128 key that is used once.
// dst may alias key or src.
func decryptBlock(key, dst, src *[16]byte) {
	decryptBlockGeneric(key, dst, src)
}
