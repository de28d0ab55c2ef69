//go:build !purego

package sun

// haveAESAsm reports whether the CPU has AES-NI and SSSE3, in which case
// encryptBlock and decryptBlock use the assembly in aes128_amd64.s.
var haveAESAsm = cpuHasAESNI()

// cpuHasAESNI reports, via CPUID, whether the CPU supports AES-NI and SSSE3.
func cpuHasAESNI() bool

// encryptBlockAsm is encryptBlock using AES-NI, with the key schedule
// interleaved with the rounds.
//
//go:noescape
func encryptBlockAsm(key, dst, src *[16]byte)

// decryptBlockAsm is decryptBlock using AES-NI.
//
//go:noescape
func decryptBlockAsm(key, dst, src *[16]byte)

// encryptBlock encrypts src into dst under an AES-128 key that is used once
// (LRP derives a new key at every step). dst may alias key or src.
func encryptBlock(key, dst, src *[16]byte) {
	if haveAESAsm {
		encryptBlockAsm(key, dst, src)
		return
	}
	encryptBlockGeneric(key, dst, src)
}

// decryptBlock decrypts src into dst under an AES-128 key that is used once.
// dst may alias key or src.
func decryptBlock(key, dst, src *[16]byte) {
	if haveAESAsm {
		decryptBlockAsm(key, dst, src)
		return
	}
	decryptBlockGeneric(key, dst, src)
}
