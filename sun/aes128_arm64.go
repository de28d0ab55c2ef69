//go:build !purego

package sun

import (
	"encoding/binary"
	"os"
	"runtime"
)

// haveAESAsm reports whether the CPU has the ARMv8 AES instructions, in
// which case encryptBlock and decryptBlock use aes128_arm64.s.
var haveAESAsm = cpuHasAES()

// cpuHasAES detects the AES instructions without internal/cpu: every Apple
// arm64 CPU has them, Linux and Android report them in the auxiliary vector,
// and elsewhere the portable code is used.
func cpuHasAES() bool {
	switch runtime.GOOS {
	case "darwin", "ios":
		return true
	case "linux", "android":
		auxv, err := os.ReadFile("/proc/self/auxv")
		if err != nil {
			return false
		}
		return auxvHasAES(auxv)
	}
	return false
}

// auxvHasAES reports whether an arm64 Linux auxiliary vector (pairs of
// native-endian uint64 tag and value) has HWCAP_AES set in AT_HWCAP.
func auxvHasAES(auxv []byte) bool {
	const (
		atNull   = 0
		atHWCap  = 16
		hwcapAES = 1 << 3
	)
	for len(auxv) >= 16 {
		tag := binary.NativeEndian.Uint64(auxv)
		val := binary.NativeEndian.Uint64(auxv[8:])
		auxv = auxv[16:]
		switch tag {
		case atNull:
			return false
		case atHWCap:
			return val&hwcapAES != 0
		}
	}
	return false
}

// encryptBlockAsm is encryptBlock using AESE/AESMC, with the key schedule
// interleaved with the rounds.
//
//go:noescape
func encryptBlockAsm(key, dst, src *[16]byte)

// decryptBlockAsm is decryptBlock using AESD/AESIMC.
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
