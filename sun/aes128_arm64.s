//go:build !purego

#include "textflag.h"

// Single-use AES-128 with the ARMv8 Cryptography Extension, as straight-line
// code. The key schedule is the one-word recurrence described in
// aes128_amd64.s: with d_{-1} = c0^d0, d_{-2} = b0^d0, d_{-3} = a0^b0^c0^d0,
//
//	d_{r+1} = d_{r-3} ^ SubWord(RotWord(d_r)) ^ Rcon_r
//	K_r = (d_r^d_{r-1}^d_{r-2}^d_{r-3}, d_r^d_{r-2}, d_r^d_{r-1}, d_r)
//
// with d_r kept in row 1 (bytes 1, 5, 9, 13) of a vector register, the other
// bytes being don't-cares. AESE computes ShiftRows(SubBytes(s ^ k)) and
// never mixes rows; ShiftRows rotates row 1 like RotWord. With X_r a
// register whose row 1 is d_r, the chain register holds
// Z_r = ShiftRows(SubBytes(X_r)), and with M_r = X_{r-3} ^ Rcon_r (Rcon in
// byte 1), X_{r+1} = Z_r ^ M_r and Z_{r+1} = AESE(Z_r, key M_r): one AESE
// per round on the critical path, its key ready rounds in advance. Each K_r
// is assembled off that path with four TBLs from X_r..X_{r-3}.
//
// Registers: V0 AES state; V1 Z; V2-V5 X_j in V(2 + j mod 4); V6 M; V7 the
// round key; V8, V9 scratch; V10-V13 the row-1-to-words masks; V14 Rcon;
// V15-V18 the word-to-row-1 masks; V19 zero; V20-V28 InvMixColumns(K1..K9)
// when decrypting; V29 K0.

// aesTBLMasks holds TBL indexes (0x80: zero) that copy, in order:
// row 1 into all four words,
// row 1 into words 0 and 2,
// row 1 into words 0 and 1,
// row 1 into word 0,
// word 0 into row 1 (bytes 1, 5, 9, 13),
// word 1 into row 1,
// word 2 into row 1,
// word 3 into row 1.
DATA aesTBLMasks<>+0x00(SB)/8, $0x0d0905010d090501
DATA aesTBLMasks<>+0x08(SB)/8, $0x0d0905010d090501
DATA aesTBLMasks<>+0x10(SB)/8, $0x808080800d090501
DATA aesTBLMasks<>+0x18(SB)/8, $0x808080800d090501
DATA aesTBLMasks<>+0x20(SB)/8, $0x0d0905010d090501
DATA aesTBLMasks<>+0x28(SB)/8, $0x8080808080808080
DATA aesTBLMasks<>+0x30(SB)/8, $0x808080800d090501
DATA aesTBLMasks<>+0x38(SB)/8, $0x8080808080808080
DATA aesTBLMasks<>+0x40(SB)/8, $0x8080018080800080
DATA aesTBLMasks<>+0x48(SB)/8, $0x8080038080800280
DATA aesTBLMasks<>+0x50(SB)/8, $0x8080058080800480
DATA aesTBLMasks<>+0x58(SB)/8, $0x8080078080800680
DATA aesTBLMasks<>+0x60(SB)/8, $0x8080098080800880
DATA aesTBLMasks<>+0x68(SB)/8, $0x80800b8080800a80
DATA aesTBLMasks<>+0x70(SB)/8, $0x80800d8080800c80
DATA aesTBLMasks<>+0x78(SB)/8, $0x80800f8080800e80
GLOBL aesTBLMasks<>(SB), (NOPTR+RODATA), $128

// func encryptBlockAsm(key, dst, src *[16]byte)
// encryptBlockAsm runs each AESE as soon as its round key is ready.
TEXT ·encryptBlockAsm(SB), NOSPLIT, $0-24
	MOVD    key+0(FP), R0
	MOVD    dst+8(FP), R1
	MOVD    src+16(FP), R2
	MOVD    $aesTBLMasks<>(SB), R3
	VLD1    (R0), [V29.B16]                    // K0 = (a0, b0, c0, d0)
	VLD1.P  64(R3), [V10.B16, V11.B16, V12.B16, V13.B16]
	VLD1    (R3), [V15.B16, V16.B16, V17.B16, V18.B16]
	VLD1    (R2), [V0.B16]
	VEOR    V19.B16, V19.B16, V19.B16
	VEOR    V14.B16, V14.B16, V14.B16
	VEOR    V1.B16, V1.B16, V1.B16
	VTBL    V18.B16, [V29.B16], V2.B16         // X_0: row 1 = d0
	VTBL    V15.B16, [V29.B16], V3.B16         // row 1 = a0
	VTBL    V16.B16, [V29.B16], V4.B16         // row 1 = b0
	VTBL    V17.B16, [V29.B16], V5.B16         // row 1 = c0
	AESE    V2.B16, V1.B16                     // Z_0
	AESE    V29.B16, V0.B16
	AESMC   V0.B16, V0.B16
	VEOR    V4.B16, V3.B16, V3.B16             // row 1 = a0^b0
	VEOR    V2.B16, V4.B16, V4.B16             // X_{-2}: row 1 = b0^d0
	VEOR    V2.B16, V5.B16, V5.B16             // X_{-1}: row 1 = c0^d0
	VEOR    V5.B16, V3.B16, V3.B16             // X_{-3}: row 1 = a0^b0^c0^d0

	// Round 1: d1 = d_{-3} ^ SubWord(RotWord(d0)) ^ Rcon, then K1.
	MOVW    $0x100, R4
	VMOV    R4, V14.S[0]
	VEOR    V14.B16, V3.B16, V6.B16            // M_0
	VEOR    V6.B16, V1.B16, V3.B16             // X_1: row 1 = d1
	AESE    V6.B16, V1.B16                     // Z_1
	VTBL    V10.B16, [V3.B16], V7.B16
	VTBL    V11.B16, [V2.B16], V8.B16
	VTBL    V12.B16, [V5.B16], V9.B16
	VEOR    V8.B16, V7.B16, V7.B16
	VTBL    V13.B16, [V4.B16], V8.B16
	VEOR    V9.B16, V8.B16, V8.B16
	VEOR    V8.B16, V7.B16, V7.B16             // K1
	AESE    V7.B16, V0.B16
	AESMC   V0.B16, V0.B16

	// Round 2: d2 = d_{-2} ^ SubWord(RotWord(d1)) ^ Rcon, then K2.
	MOVW    $0x200, R4
	VMOV    R4, V14.S[0]
	VEOR    V14.B16, V4.B16, V6.B16            // M_1
	VEOR    V6.B16, V1.B16, V4.B16             // X_2: row 1 = d2
	AESE    V6.B16, V1.B16                     // Z_2
	VTBL    V10.B16, [V4.B16], V7.B16
	VTBL    V11.B16, [V3.B16], V8.B16
	VTBL    V12.B16, [V2.B16], V9.B16
	VEOR    V8.B16, V7.B16, V7.B16
	VTBL    V13.B16, [V5.B16], V8.B16
	VEOR    V9.B16, V8.B16, V8.B16
	VEOR    V8.B16, V7.B16, V7.B16             // K2
	AESE    V7.B16, V0.B16
	AESMC   V0.B16, V0.B16

	// Round 3: d3 = d_{-1} ^ SubWord(RotWord(d2)) ^ Rcon, then K3.
	MOVW    $0x400, R4
	VMOV    R4, V14.S[0]
	VEOR    V14.B16, V5.B16, V6.B16            // M_2
	VEOR    V6.B16, V1.B16, V5.B16             // X_3: row 1 = d3
	AESE    V6.B16, V1.B16                     // Z_3
	VTBL    V10.B16, [V5.B16], V7.B16
	VTBL    V11.B16, [V4.B16], V8.B16
	VTBL    V12.B16, [V3.B16], V9.B16
	VEOR    V8.B16, V7.B16, V7.B16
	VTBL    V13.B16, [V2.B16], V8.B16
	VEOR    V9.B16, V8.B16, V8.B16
	VEOR    V8.B16, V7.B16, V7.B16             // K3
	AESE    V7.B16, V0.B16
	AESMC   V0.B16, V0.B16

	// Round 4: d4 = d0 ^ SubWord(RotWord(d3)) ^ Rcon, then K4.
	MOVW    $0x800, R4
	VMOV    R4, V14.S[0]
	VEOR    V14.B16, V2.B16, V6.B16            // M_3
	VEOR    V6.B16, V1.B16, V2.B16             // X_4: row 1 = d4
	AESE    V6.B16, V1.B16                     // Z_4
	VTBL    V10.B16, [V2.B16], V7.B16
	VTBL    V11.B16, [V5.B16], V8.B16
	VTBL    V12.B16, [V4.B16], V9.B16
	VEOR    V8.B16, V7.B16, V7.B16
	VTBL    V13.B16, [V3.B16], V8.B16
	VEOR    V9.B16, V8.B16, V8.B16
	VEOR    V8.B16, V7.B16, V7.B16             // K4
	AESE    V7.B16, V0.B16
	AESMC   V0.B16, V0.B16

	// Round 5: d5 = d1 ^ SubWord(RotWord(d4)) ^ Rcon, then K5.
	MOVW    $0x1000, R4
	VMOV    R4, V14.S[0]
	VEOR    V14.B16, V3.B16, V6.B16            // M_4
	VEOR    V6.B16, V1.B16, V3.B16             // X_5: row 1 = d5
	AESE    V6.B16, V1.B16                     // Z_5
	VTBL    V10.B16, [V3.B16], V7.B16
	VTBL    V11.B16, [V2.B16], V8.B16
	VTBL    V12.B16, [V5.B16], V9.B16
	VEOR    V8.B16, V7.B16, V7.B16
	VTBL    V13.B16, [V4.B16], V8.B16
	VEOR    V9.B16, V8.B16, V8.B16
	VEOR    V8.B16, V7.B16, V7.B16             // K5
	AESE    V7.B16, V0.B16
	AESMC   V0.B16, V0.B16

	// Round 6: d6 = d2 ^ SubWord(RotWord(d5)) ^ Rcon, then K6.
	MOVW    $0x2000, R4
	VMOV    R4, V14.S[0]
	VEOR    V14.B16, V4.B16, V6.B16            // M_5
	VEOR    V6.B16, V1.B16, V4.B16             // X_6: row 1 = d6
	AESE    V6.B16, V1.B16                     // Z_6
	VTBL    V10.B16, [V4.B16], V7.B16
	VTBL    V11.B16, [V3.B16], V8.B16
	VTBL    V12.B16, [V2.B16], V9.B16
	VEOR    V8.B16, V7.B16, V7.B16
	VTBL    V13.B16, [V5.B16], V8.B16
	VEOR    V9.B16, V8.B16, V8.B16
	VEOR    V8.B16, V7.B16, V7.B16             // K6
	AESE    V7.B16, V0.B16
	AESMC   V0.B16, V0.B16

	// Round 7: d7 = d3 ^ SubWord(RotWord(d6)) ^ Rcon, then K7.
	MOVW    $0x4000, R4
	VMOV    R4, V14.S[0]
	VEOR    V14.B16, V5.B16, V6.B16            // M_6
	VEOR    V6.B16, V1.B16, V5.B16             // X_7: row 1 = d7
	AESE    V6.B16, V1.B16                     // Z_7
	VTBL    V10.B16, [V5.B16], V7.B16
	VTBL    V11.B16, [V4.B16], V8.B16
	VTBL    V12.B16, [V3.B16], V9.B16
	VEOR    V8.B16, V7.B16, V7.B16
	VTBL    V13.B16, [V2.B16], V8.B16
	VEOR    V9.B16, V8.B16, V8.B16
	VEOR    V8.B16, V7.B16, V7.B16             // K7
	AESE    V7.B16, V0.B16
	AESMC   V0.B16, V0.B16

	// Round 8: d8 = d4 ^ SubWord(RotWord(d7)) ^ Rcon, then K8.
	MOVW    $0x8000, R4
	VMOV    R4, V14.S[0]
	VEOR    V14.B16, V2.B16, V6.B16            // M_7
	VEOR    V6.B16, V1.B16, V2.B16             // X_8: row 1 = d8
	AESE    V6.B16, V1.B16                     // Z_8
	VTBL    V10.B16, [V2.B16], V7.B16
	VTBL    V11.B16, [V5.B16], V8.B16
	VTBL    V12.B16, [V4.B16], V9.B16
	VEOR    V8.B16, V7.B16, V7.B16
	VTBL    V13.B16, [V3.B16], V8.B16
	VEOR    V9.B16, V8.B16, V8.B16
	VEOR    V8.B16, V7.B16, V7.B16             // K8
	AESE    V7.B16, V0.B16
	AESMC   V0.B16, V0.B16

	// Round 9: d9 = d5 ^ SubWord(RotWord(d8)) ^ Rcon, then K9.
	MOVW    $0x1b00, R4
	VMOV    R4, V14.S[0]
	VEOR    V14.B16, V3.B16, V6.B16            // M_8
	VEOR    V6.B16, V1.B16, V3.B16             // X_9: row 1 = d9
	AESE    V6.B16, V1.B16                     // Z_9
	VTBL    V10.B16, [V3.B16], V7.B16
	VTBL    V11.B16, [V2.B16], V8.B16
	VTBL    V12.B16, [V5.B16], V9.B16
	VEOR    V8.B16, V7.B16, V7.B16
	VTBL    V13.B16, [V4.B16], V8.B16
	VEOR    V9.B16, V8.B16, V8.B16
	VEOR    V8.B16, V7.B16, V7.B16             // K9
	AESE    V7.B16, V0.B16

	// Round 10: d10 = d6 ^ SubWord(RotWord(d9)) ^ Rcon, then K10.
	MOVW    $0x3600, R4
	VMOV    R4, V14.S[0]
	VEOR    V14.B16, V4.B16, V6.B16            // M_9
	VEOR    V6.B16, V1.B16, V4.B16             // X_10: row 1 = d10
	VTBL    V10.B16, [V4.B16], V7.B16
	VTBL    V11.B16, [V3.B16], V8.B16
	VTBL    V12.B16, [V2.B16], V9.B16
	VEOR    V8.B16, V7.B16, V7.B16
	VTBL    V13.B16, [V5.B16], V8.B16
	VEOR    V9.B16, V8.B16, V8.B16
	VEOR    V8.B16, V7.B16, V7.B16             // K10
	VEOR    V7.B16, V0.B16, V0.B16
	VST1    [V0.B16], (R1)
	RET

// func decryptBlockAsm(key, dst, src *[16]byte)
// decryptBlockAsm runs the same schedule, keeping InvMixColumns(K1..K9) in
// V20-V28, then the equivalent inverse cipher from K10 down to K0.
TEXT ·decryptBlockAsm(SB), NOSPLIT, $0-24
	MOVD    key+0(FP), R0
	MOVD    dst+8(FP), R1
	MOVD    src+16(FP), R2
	MOVD    $aesTBLMasks<>(SB), R3
	VLD1    (R0), [V29.B16]                    // K0 = (a0, b0, c0, d0)
	VLD1.P  64(R3), [V10.B16, V11.B16, V12.B16, V13.B16]
	VLD1    (R3), [V15.B16, V16.B16, V17.B16, V18.B16]
	VEOR    V19.B16, V19.B16, V19.B16
	VEOR    V14.B16, V14.B16, V14.B16
	VEOR    V1.B16, V1.B16, V1.B16
	VTBL    V18.B16, [V29.B16], V2.B16         // X_0: row 1 = d0
	VTBL    V15.B16, [V29.B16], V3.B16         // row 1 = a0
	VTBL    V16.B16, [V29.B16], V4.B16         // row 1 = b0
	VTBL    V17.B16, [V29.B16], V5.B16         // row 1 = c0
	AESE    V2.B16, V1.B16                     // Z_0
	VEOR    V4.B16, V3.B16, V3.B16             // row 1 = a0^b0
	VEOR    V2.B16, V4.B16, V4.B16             // X_{-2}: row 1 = b0^d0
	VEOR    V2.B16, V5.B16, V5.B16             // X_{-1}: row 1 = c0^d0
	VEOR    V5.B16, V3.B16, V3.B16             // X_{-3}: row 1 = a0^b0^c0^d0

	// Round 1: d1 = d_{-3} ^ SubWord(RotWord(d0)) ^ Rcon, then K1.
	MOVW    $0x100, R4
	VMOV    R4, V14.S[0]
	VEOR    V14.B16, V3.B16, V6.B16            // M_0
	VEOR    V6.B16, V1.B16, V3.B16             // X_1: row 1 = d1
	AESE    V6.B16, V1.B16                     // Z_1
	VTBL    V10.B16, [V3.B16], V7.B16
	VTBL    V11.B16, [V2.B16], V8.B16
	VTBL    V12.B16, [V5.B16], V9.B16
	VEOR    V8.B16, V7.B16, V7.B16
	VTBL    V13.B16, [V4.B16], V8.B16
	VEOR    V9.B16, V8.B16, V8.B16
	VEOR    V8.B16, V7.B16, V7.B16             // K1
	AESIMC  V7.B16, V20.B16                    // InvMixColumns(K1)

	// Round 2: d2 = d_{-2} ^ SubWord(RotWord(d1)) ^ Rcon, then K2.
	MOVW    $0x200, R4
	VMOV    R4, V14.S[0]
	VEOR    V14.B16, V4.B16, V6.B16            // M_1
	VEOR    V6.B16, V1.B16, V4.B16             // X_2: row 1 = d2
	AESE    V6.B16, V1.B16                     // Z_2
	VTBL    V10.B16, [V4.B16], V7.B16
	VTBL    V11.B16, [V3.B16], V8.B16
	VTBL    V12.B16, [V2.B16], V9.B16
	VEOR    V8.B16, V7.B16, V7.B16
	VTBL    V13.B16, [V5.B16], V8.B16
	VEOR    V9.B16, V8.B16, V8.B16
	VEOR    V8.B16, V7.B16, V7.B16             // K2
	AESIMC  V7.B16, V21.B16                    // InvMixColumns(K2)

	// Round 3: d3 = d_{-1} ^ SubWord(RotWord(d2)) ^ Rcon, then K3.
	MOVW    $0x400, R4
	VMOV    R4, V14.S[0]
	VEOR    V14.B16, V5.B16, V6.B16            // M_2
	VEOR    V6.B16, V1.B16, V5.B16             // X_3: row 1 = d3
	AESE    V6.B16, V1.B16                     // Z_3
	VTBL    V10.B16, [V5.B16], V7.B16
	VTBL    V11.B16, [V4.B16], V8.B16
	VTBL    V12.B16, [V3.B16], V9.B16
	VEOR    V8.B16, V7.B16, V7.B16
	VTBL    V13.B16, [V2.B16], V8.B16
	VEOR    V9.B16, V8.B16, V8.B16
	VEOR    V8.B16, V7.B16, V7.B16             // K3
	AESIMC  V7.B16, V22.B16                    // InvMixColumns(K3)

	// Round 4: d4 = d0 ^ SubWord(RotWord(d3)) ^ Rcon, then K4.
	MOVW    $0x800, R4
	VMOV    R4, V14.S[0]
	VEOR    V14.B16, V2.B16, V6.B16            // M_3
	VEOR    V6.B16, V1.B16, V2.B16             // X_4: row 1 = d4
	AESE    V6.B16, V1.B16                     // Z_4
	VTBL    V10.B16, [V2.B16], V7.B16
	VTBL    V11.B16, [V5.B16], V8.B16
	VTBL    V12.B16, [V4.B16], V9.B16
	VEOR    V8.B16, V7.B16, V7.B16
	VTBL    V13.B16, [V3.B16], V8.B16
	VEOR    V9.B16, V8.B16, V8.B16
	VEOR    V8.B16, V7.B16, V7.B16             // K4
	AESIMC  V7.B16, V23.B16                    // InvMixColumns(K4)

	// Round 5: d5 = d1 ^ SubWord(RotWord(d4)) ^ Rcon, then K5.
	MOVW    $0x1000, R4
	VMOV    R4, V14.S[0]
	VEOR    V14.B16, V3.B16, V6.B16            // M_4
	VEOR    V6.B16, V1.B16, V3.B16             // X_5: row 1 = d5
	AESE    V6.B16, V1.B16                     // Z_5
	VTBL    V10.B16, [V3.B16], V7.B16
	VTBL    V11.B16, [V2.B16], V8.B16
	VTBL    V12.B16, [V5.B16], V9.B16
	VEOR    V8.B16, V7.B16, V7.B16
	VTBL    V13.B16, [V4.B16], V8.B16
	VEOR    V9.B16, V8.B16, V8.B16
	VEOR    V8.B16, V7.B16, V7.B16             // K5
	AESIMC  V7.B16, V24.B16                    // InvMixColumns(K5)

	// Round 6: d6 = d2 ^ SubWord(RotWord(d5)) ^ Rcon, then K6.
	MOVW    $0x2000, R4
	VMOV    R4, V14.S[0]
	VEOR    V14.B16, V4.B16, V6.B16            // M_5
	VEOR    V6.B16, V1.B16, V4.B16             // X_6: row 1 = d6
	AESE    V6.B16, V1.B16                     // Z_6
	VTBL    V10.B16, [V4.B16], V7.B16
	VTBL    V11.B16, [V3.B16], V8.B16
	VTBL    V12.B16, [V2.B16], V9.B16
	VEOR    V8.B16, V7.B16, V7.B16
	VTBL    V13.B16, [V5.B16], V8.B16
	VEOR    V9.B16, V8.B16, V8.B16
	VEOR    V8.B16, V7.B16, V7.B16             // K6
	AESIMC  V7.B16, V25.B16                    // InvMixColumns(K6)

	// Round 7: d7 = d3 ^ SubWord(RotWord(d6)) ^ Rcon, then K7.
	MOVW    $0x4000, R4
	VMOV    R4, V14.S[0]
	VEOR    V14.B16, V5.B16, V6.B16            // M_6
	VEOR    V6.B16, V1.B16, V5.B16             // X_7: row 1 = d7
	AESE    V6.B16, V1.B16                     // Z_7
	VTBL    V10.B16, [V5.B16], V7.B16
	VTBL    V11.B16, [V4.B16], V8.B16
	VTBL    V12.B16, [V3.B16], V9.B16
	VEOR    V8.B16, V7.B16, V7.B16
	VTBL    V13.B16, [V2.B16], V8.B16
	VEOR    V9.B16, V8.B16, V8.B16
	VEOR    V8.B16, V7.B16, V7.B16             // K7
	AESIMC  V7.B16, V26.B16                    // InvMixColumns(K7)

	// Round 8: d8 = d4 ^ SubWord(RotWord(d7)) ^ Rcon, then K8.
	MOVW    $0x8000, R4
	VMOV    R4, V14.S[0]
	VEOR    V14.B16, V2.B16, V6.B16            // M_7
	VEOR    V6.B16, V1.B16, V2.B16             // X_8: row 1 = d8
	AESE    V6.B16, V1.B16                     // Z_8
	VTBL    V10.B16, [V2.B16], V7.B16
	VTBL    V11.B16, [V5.B16], V8.B16
	VTBL    V12.B16, [V4.B16], V9.B16
	VEOR    V8.B16, V7.B16, V7.B16
	VTBL    V13.B16, [V3.B16], V8.B16
	VEOR    V9.B16, V8.B16, V8.B16
	VEOR    V8.B16, V7.B16, V7.B16             // K8
	AESIMC  V7.B16, V27.B16                    // InvMixColumns(K8)

	// Round 9: d9 = d5 ^ SubWord(RotWord(d8)) ^ Rcon, then K9.
	MOVW    $0x1b00, R4
	VMOV    R4, V14.S[0]
	VEOR    V14.B16, V3.B16, V6.B16            // M_8
	VEOR    V6.B16, V1.B16, V3.B16             // X_9: row 1 = d9
	AESE    V6.B16, V1.B16                     // Z_9
	VTBL    V10.B16, [V3.B16], V7.B16
	VTBL    V11.B16, [V2.B16], V8.B16
	VTBL    V12.B16, [V5.B16], V9.B16
	VEOR    V8.B16, V7.B16, V7.B16
	VTBL    V13.B16, [V4.B16], V8.B16
	VEOR    V9.B16, V8.B16, V8.B16
	VEOR    V8.B16, V7.B16, V7.B16             // K9
	AESIMC  V7.B16, V28.B16                    // InvMixColumns(K9)

	// Round 10: d10 = d6 ^ SubWord(RotWord(d9)) ^ Rcon, then K10.
	MOVW    $0x3600, R4
	VMOV    R4, V14.S[0]
	VEOR    V14.B16, V4.B16, V6.B16            // M_9
	VEOR    V6.B16, V1.B16, V4.B16             // X_10: row 1 = d10
	VTBL    V10.B16, [V4.B16], V7.B16
	VTBL    V11.B16, [V3.B16], V8.B16
	VTBL    V12.B16, [V2.B16], V9.B16
	VEOR    V8.B16, V7.B16, V7.B16
	VTBL    V13.B16, [V5.B16], V8.B16
	VEOR    V9.B16, V8.B16, V8.B16
	VEOR    V8.B16, V7.B16, V7.B16             // K10

	VLD1    (R2), [V0.B16]
	AESD    V7.B16, V0.B16                     // K10
	AESIMC  V0.B16, V0.B16
	AESD    V28.B16, V0.B16
	AESIMC  V0.B16, V0.B16
	AESD    V27.B16, V0.B16
	AESIMC  V0.B16, V0.B16
	AESD    V26.B16, V0.B16
	AESIMC  V0.B16, V0.B16
	AESD    V25.B16, V0.B16
	AESIMC  V0.B16, V0.B16
	AESD    V24.B16, V0.B16
	AESIMC  V0.B16, V0.B16
	AESD    V23.B16, V0.B16
	AESIMC  V0.B16, V0.B16
	AESD    V22.B16, V0.B16
	AESIMC  V0.B16, V0.B16
	AESD    V21.B16, V0.B16
	AESIMC  V0.B16, V0.B16
	AESD    V20.B16, V0.B16
	VEOR    V29.B16, V0.B16, V0.B16            // K0
	VST1    [V0.B16], (R1)
	RET
