//go:build !purego

#include "textflag.h"

// Single-use AES-128 with AES-NI. The key schedule uses the
// PSHUFB/AESENCLAST method instead of the slow AESKEYGENASSIST: PSHUFB
// broadcasts RotWord(w3) to all four columns, so ShiftRows inside
// AESENCLAST is a no-op and AESENCLAST with a round key of Rcon in every
// column yields SubWord(RotWord(w3)) ^ Rcon. The prefix XOR
// w0, w0^w1, w0^w1^w2, w0^w1^w2^w3 takes two shift/XOR steps.

// rotWordMask is the PSHUFB mask that broadcasts RotWord(w3): bytes 13, 14,
// 15, 12 in every column.
DATA rotWordMask<>+0x00(SB)/8, $0x0c0f0e0d0c0f0e0d
DATA rotWordMask<>+0x08(SB)/8, $0x0c0f0e0d0c0f0e0d
GLOBL rotWordMask<>(SB), (NOPTR+RODATA), $16

// rcon01 is Rcon 0x01 in every column; it is doubled after each round.
DATA rcon01<>+0x00(SB)/8, $0x0000000100000001
DATA rcon01<>+0x08(SB)/8, $0x0000000100000001
GLOBL rcon01<>(SB), (NOPTR+RODATA), $16

// rcon1b is Rcon 0x1b (rounds 9 and, doubled, 10) in every column.
DATA rcon1b<>+0x00(SB)/8, $0x0000001b0000001b
DATA rcon1b<>+0x08(SB)/8, $0x0000001b0000001b
GLOBL rcon1b<>(SB), (NOPTR+RODATA), $16

// KEYSTEP sets next to the round key that follows prev (next != prev),
// using X13 = rotWordMask, X14 = Rcon and X11, X12 as scratch. It leaves
// prev intact and does not advance the Rcon.
#define KEYSTEP(prev, next) \
	MOVO       prev, X11  \
	PSHUFB     X13, X11   \
	AESENCLAST X14, X11   \
	MOVO       prev, X12  \
	PSLLDQ     $4, X12    \
	MOVO       prev, next \
	PXOR       X12, next  \
	MOVO       next, X12  \
	PSLLDQ     $8, X12    \
	PXOR       X12, next  \
	PXOR       X11, next

// func cpuHasAESNI() bool
// cpuHasAESNI reports whether CPUID leaf 1 sets ECX bits 25 (AES) and 9
// (SSSE3, for PSHUFB).
TEXT ·cpuHasAESNI(SB), NOSPLIT, $0-1
	MOVL  $1, AX
	XORL  CX, CX
	CPUID
	ANDL  $0x02000200, CX
	CMPL  CX, $0x02000200
	SETEQ ret+0(FP)
	RET

// func encryptBlockAsm(key, dst, src *[16]byte)
// encryptBlockAsm computes each round key just before the round that uses
// it, alternating between X1 and X2; X0 is the state.
TEXT ·encryptBlockAsm(SB), NOSPLIT, $0-24
	MOVQ  key+0(FP), AX
	MOVQ  dst+8(FP), DX
	MOVQ  src+16(FP), BX
	MOVOU (AX), X1
	MOVOU (BX), X0
	MOVOU rotWordMask<>(SB), X13
	MOVOU rcon01<>(SB), X14
	PXOR  X1, X0

	KEYSTEP(X1, X2)
	PSLLL  $1, X14
	AESENC X2, X0
	KEYSTEP(X2, X1)
	PSLLL  $1, X14
	AESENC X1, X0
	KEYSTEP(X1, X2)
	PSLLL  $1, X14
	AESENC X2, X0
	KEYSTEP(X2, X1)
	PSLLL  $1, X14
	AESENC X1, X0
	KEYSTEP(X1, X2)
	PSLLL  $1, X14
	AESENC X2, X0
	KEYSTEP(X2, X1)
	PSLLL  $1, X14
	AESENC X1, X0
	KEYSTEP(X1, X2)
	PSLLL  $1, X14
	AESENC X2, X0
	KEYSTEP(X2, X1)
	MOVOU  rcon1b<>(SB), X14
	AESENC X1, X0
	KEYSTEP(X1, X2)
	PSLLL  $1, X14
	AESENC X2, X0
	KEYSTEP(X2, X1)
	AESENCLAST X1, X0

	MOVOU X0, (DX)
	RET

// func decryptBlockAsm(key, dst, src *[16]byte)
// decryptBlockAsm expands the whole schedule into X0..X10 (decryption needs
// the last round key first), applying AESIMC to k1..k9 as soon as the next
// key has been derived from them, then runs the equivalent inverse cipher
// with the state in X11.
TEXT ·decryptBlockAsm(SB), NOSPLIT, $0-24
	MOVQ  key+0(FP), AX
	MOVQ  dst+8(FP), DX
	MOVQ  src+16(FP), BX
	MOVOU (AX), X0
	MOVOU rotWordMask<>(SB), X13
	MOVOU rcon01<>(SB), X14

	KEYSTEP(X0, X1)
	PSLLL  $1, X14
	KEYSTEP(X1, X2)
	PSLLL  $1, X14
	AESIMC X1, X1
	KEYSTEP(X2, X3)
	PSLLL  $1, X14
	AESIMC X2, X2
	KEYSTEP(X3, X4)
	PSLLL  $1, X14
	AESIMC X3, X3
	KEYSTEP(X4, X5)
	PSLLL  $1, X14
	AESIMC X4, X4
	KEYSTEP(X5, X6)
	PSLLL  $1, X14
	AESIMC X5, X5
	KEYSTEP(X6, X7)
	PSLLL  $1, X14
	AESIMC X6, X6
	KEYSTEP(X7, X8)
	MOVOU  rcon1b<>(SB), X14
	AESIMC X7, X7
	KEYSTEP(X8, X9)
	PSLLL  $1, X14
	AESIMC X8, X8
	KEYSTEP(X9, X10)
	AESIMC X9, X9

	MOVOU      (BX), X11
	PXOR       X10, X11
	AESDEC     X9, X11
	AESDEC     X8, X11
	AESDEC     X7, X11
	AESDEC     X6, X11
	AESDEC     X5, X11
	AESDEC     X4, X11
	AESDEC     X3, X11
	AESDEC     X2, X11
	AESDEC     X1, X11
	AESDECLAST X0, X11
	MOVOU      X11, (DX)
	RET
