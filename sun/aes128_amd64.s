//go:build !purego

#include "textflag.h"

// Single-use AES-128 with AES-NI (and SSSE3 for PSHUFB) as straight-line
// code. LRP chains these calls (each output is the next key), so latency is
// what counts, and it is set by the key schedule. The usual
// PSHUFB/AESENCLAST schedule costs PSHUFB + AESENCLAST + PXOR per round on
// its critical path, plus the prefix XOR; this one costs one AESENCLAST.
//
// Let K_r = (a_r, b_r, c_r, d_r) be round key r in 32-bit words, so
// K_{r+1} = (a^f, a^b^f, a^b^c^f, a^b^c^d^f) of K_r with
// f_r = SubWord(RotWord(d_r)) ^ Rcon_r. Define d_{-1} = c0^d0,
// d_{-2} = b0^d0 and d_{-3} = a0^b0^c0^d0. By induction on r,
//
//	K_r = (d_r^d_{r-1}^d_{r-2}^d_{r-3}, d_r^d_{r-2}, d_r^d_{r-1}, d_r)
//	d_{r+1} = d_{r-3} ^ SubWord(RotWord(d_r)) ^ Rcon_r
//
// (the XOR of K_r's four words is d_{r-3}). So the schedule is a recurrence
// on one word. d_r is kept in row 1 of an XMM register: bytes 1, 5, 9, 13
// hold bytes 0..3 of d_r; the other bytes are don't-cares. AESENCLAST has
// no MixColumns, so it never mixes rows, and its ShiftRows rotates row 1
// left by one column, which is RotWord. Hence AESENCLAST with round key
// "d_{r-3} in row 1, Rcon_r in byte 1" turns row 1 = d_r into row 1 =
// d_{r+1}, and that round key is ready rounds in advance (round 1 instead
// XORs d_{-3} after an AESENCLAST with Rcon alone, as d_{-3} takes longer
// to compute than d0). Each K_r is then assembled off the critical path
// with four PSHUFBs (zeroing masks) from d_r..d_{r-3}.
//
// Registers: X0 AES state; X1 the d chain; X2-X5 hold d_r..d_{r-3} (d_j in
// slot j mod 4, i.e. X(2 + j mod 4)); X6 the chain's round key; X7 the
// cipher round key; X8, X9 scratch; X10-X13 the row1To masks; X14 Rcon.

// row1W0 is a PSHUFB mask that moves word 0 into row 1 (bytes 1, 5, 9,
// 13), zeroing the rest.
DATA row1W0<>+0x00(SB)/8, $0x8080018080800080
DATA row1W0<>+0x08(SB)/8, $0x8080038080800280
GLOBL row1W0<>(SB), (NOPTR+RODATA), $16

// row1W1 is a PSHUFB mask that moves word 1 into row 1.
DATA row1W1<>+0x00(SB)/8, $0x8080058080800480
DATA row1W1<>+0x08(SB)/8, $0x8080078080800680
GLOBL row1W1<>(SB), (NOPTR+RODATA), $16

// row1W2 is a PSHUFB mask that moves word 2 into row 1.
DATA row1W2<>+0x00(SB)/8, $0x8080098080800880
DATA row1W2<>+0x08(SB)/8, $0x80800b8080800a80
GLOBL row1W2<>(SB), (NOPTR+RODATA), $16

// row1W3 is a PSHUFB mask that moves word 3 into row 1.
DATA row1W3<>+0x00(SB)/8, $0x80800d8080800c80
DATA row1W3<>+0x08(SB)/8, $0x80800f8080800e80
GLOBL row1W3<>(SB), (NOPTR+RODATA), $16

// row1To1111 is a PSHUFB mask that copies row 1 into all four words.
DATA row1To1111<>+0x00(SB)/8, $0x0d0905010d090501
DATA row1To1111<>+0x08(SB)/8, $0x0d0905010d090501
GLOBL row1To1111<>(SB), (NOPTR+RODATA), $16

// row1To1010 is a PSHUFB mask that copies row 1 into words 0 and 2, zeroing
// words 1 and 3.
DATA row1To1010<>+0x00(SB)/8, $0x808080800d090501
DATA row1To1010<>+0x08(SB)/8, $0x808080800d090501
GLOBL row1To1010<>(SB), (NOPTR+RODATA), $16

// row1To1100 is a PSHUFB mask that copies row 1 into words 0 and 1, zeroing
// words 2 and 3.
DATA row1To1100<>+0x00(SB)/8, $0x0d0905010d090501
DATA row1To1100<>+0x08(SB)/8, $0x8080808080808080
GLOBL row1To1100<>(SB), (NOPTR+RODATA), $16

// row1To1000 is a PSHUFB mask that copies row 1 into word 0, zeroing words 1
// to 3.
DATA row1To1000<>+0x00(SB)/8, $0x808080800d090501
DATA row1To1000<>+0x08(SB)/8, $0x8080808080808080
GLOBL row1To1000<>(SB), (NOPTR+RODATA), $16

// rcon01 is Rcon 0x01 in byte 1 (row 1 of column 0);
// it is doubled after each round.
DATA rcon01<>+0x00(SB)/8, $0x0000000000000100
DATA rcon01<>+0x08(SB)/8, $0
GLOBL rcon01<>(SB), (NOPTR+RODATA), $16

// rcon1b is Rcon 0x1b in byte 1 (row 1 of column 0);
// doubled, it gives 0x36.
DATA rcon1b<>+0x00(SB)/8, $0x0000000000001b00
DATA rcon1b<>+0x08(SB)/8, $0
GLOBL rcon1b<>(SB), (NOPTR+RODATA), $16

// func cpuHasAESNI() bool
// cpuHasAESNI reports whether CPUID leaf 1 sets ECX bits 25 (AES) and 9
// (SSSE3, for PSHUFB).
TEXT ·cpuHasAESNI(SB), NOSPLIT, $0-1
	MOVL       $1, AX
	XORL       CX, CX
	CPUID
	ANDL       $0x02000200, CX
	CMPL       CX, $0x02000200
	SETEQ      ret+0(FP)
	RET

// func encryptBlockAsm(key, dst, src *[16]byte)
// encryptBlockAsm runs each AESENC as soon as its round key is ready.
TEXT ·encryptBlockAsm(SB), NOSPLIT, $0-24
	MOVQ       key+0(FP), AX
	MOVQ       dst+8(FP), DX
	MOVQ       src+16(FP), BX
	MOVOU      (AX), X7            // K0 = (a, b, c, d)
	MOVOU      (BX), X0
	PXOR       X7, X0
	MOVOU      row1W0<>(SB), X6
	MOVOU      row1W1<>(SB), X8
	MOVOU      row1W2<>(SB), X9
	MOVO       X7, X1
	MOVOU      row1W3<>(SB), X10
	PSHUFB     X10, X1             // row 1 = d0: the chain
	MOVO       X1, X2              // slot 0: d0
	MOVO       X7, X3
	PSHUFB     X6, X3              // row 1 = a0
	MOVO       X7, X4
	PSHUFB     X8, X4              // row 1 = b0
	MOVO       X7, X5
	PSHUFB     X9, X5              // row 1 = c0
	PXOR       X4, X3              // row 1 = a0^b0
	PXOR       X1, X4              // slot 2: d_{-2} = b0^d0
	PXOR       X1, X5              // slot 3: d_{-1} = c0^d0
	PXOR       X5, X3              // slot 1: d_{-3} = a0^b0^c0^d0
	MOVOU      row1To1111<>(SB), X10
	MOVOU      row1To1010<>(SB), X11
	MOVOU      row1To1100<>(SB), X12
	MOVOU      row1To1000<>(SB), X13
	MOVOU      rcon01<>(SB), X14

	// Round 1: d1 = d_{-3} ^ SubWord(RotWord(d0)) ^ Rcon, then K1.
	AESENCLAST X14, X1             // row 1 = SubWord(RotWord(d0)) ^ Rcon
	PXOR       X3, X1              // row 1 = d1
	PSLLL      $1, X14
	MOVO       X2, X8
	PSHUFB     X11, X8
	MOVO       X5, X9
	PSHUFB     X12, X9
	PXOR       X9, X8
	MOVO       X4, X9
	PSHUFB     X13, X9
	PXOR       X9, X8
	MOVO       X1, X7
	PSHUFB     X10, X7
	PXOR       X8, X7              // K1
	AESENC     X7, X0

	// Round 2: d2 = d_{-2} ^ SubWord(RotWord(d1)) ^ Rcon, then K2.
	MOVO       X4, X6
	PXOR       X14, X6
	MOVO       X1, X3              // slot 1: d1
	AESENCLAST X6, X1              // row 1 = d2
	PSLLL      $1, X14
	MOVO       X3, X8
	PSHUFB     X11, X8
	MOVO       X2, X9
	PSHUFB     X12, X9
	PXOR       X9, X8
	MOVO       X5, X9
	PSHUFB     X13, X9
	PXOR       X9, X8
	MOVO       X1, X7
	PSHUFB     X10, X7
	PXOR       X8, X7              // K2
	AESENC     X7, X0

	// Round 3: d3 = d_{-1} ^ SubWord(RotWord(d2)) ^ Rcon, then K3.
	MOVO       X5, X6
	PXOR       X14, X6
	MOVO       X1, X4              // slot 2: d2
	AESENCLAST X6, X1              // row 1 = d3
	PSLLL      $1, X14
	MOVO       X4, X8
	PSHUFB     X11, X8
	MOVO       X3, X9
	PSHUFB     X12, X9
	PXOR       X9, X8
	MOVO       X2, X9
	PSHUFB     X13, X9
	PXOR       X9, X8
	MOVO       X1, X7
	PSHUFB     X10, X7
	PXOR       X8, X7              // K3
	AESENC     X7, X0

	// Round 4: d4 = d0 ^ SubWord(RotWord(d3)) ^ Rcon, then K4.
	MOVO       X2, X6
	PXOR       X14, X6
	MOVO       X1, X5              // slot 3: d3
	AESENCLAST X6, X1              // row 1 = d4
	PSLLL      $1, X14
	MOVO       X5, X8
	PSHUFB     X11, X8
	MOVO       X4, X9
	PSHUFB     X12, X9
	PXOR       X9, X8
	MOVO       X3, X9
	PSHUFB     X13, X9
	PXOR       X9, X8
	MOVO       X1, X7
	PSHUFB     X10, X7
	PXOR       X8, X7              // K4
	AESENC     X7, X0

	// Round 5: d5 = d1 ^ SubWord(RotWord(d4)) ^ Rcon, then K5.
	MOVO       X3, X6
	PXOR       X14, X6
	MOVO       X1, X2              // slot 0: d4
	AESENCLAST X6, X1              // row 1 = d5
	PSLLL      $1, X14
	MOVO       X2, X8
	PSHUFB     X11, X8
	MOVO       X5, X9
	PSHUFB     X12, X9
	PXOR       X9, X8
	MOVO       X4, X9
	PSHUFB     X13, X9
	PXOR       X9, X8
	MOVO       X1, X7
	PSHUFB     X10, X7
	PXOR       X8, X7              // K5
	AESENC     X7, X0

	// Round 6: d6 = d2 ^ SubWord(RotWord(d5)) ^ Rcon, then K6.
	MOVO       X4, X6
	PXOR       X14, X6
	MOVO       X1, X3              // slot 1: d5
	AESENCLAST X6, X1              // row 1 = d6
	PSLLL      $1, X14
	MOVO       X3, X8
	PSHUFB     X11, X8
	MOVO       X2, X9
	PSHUFB     X12, X9
	PXOR       X9, X8
	MOVO       X5, X9
	PSHUFB     X13, X9
	PXOR       X9, X8
	MOVO       X1, X7
	PSHUFB     X10, X7
	PXOR       X8, X7              // K6
	AESENC     X7, X0

	// Round 7: d7 = d3 ^ SubWord(RotWord(d6)) ^ Rcon, then K7.
	MOVO       X5, X6
	PXOR       X14, X6
	MOVO       X1, X4              // slot 2: d6
	AESENCLAST X6, X1              // row 1 = d7
	PSLLL      $1, X14
	MOVO       X4, X8
	PSHUFB     X11, X8
	MOVO       X3, X9
	PSHUFB     X12, X9
	PXOR       X9, X8
	MOVO       X2, X9
	PSHUFB     X13, X9
	PXOR       X9, X8
	MOVO       X1, X7
	PSHUFB     X10, X7
	PXOR       X8, X7              // K7
	AESENC     X7, X0

	// Round 8: d8 = d4 ^ SubWord(RotWord(d7)) ^ Rcon, then K8.
	MOVO       X2, X6
	PXOR       X14, X6
	MOVO       X1, X5              // slot 3: d7
	AESENCLAST X6, X1              // row 1 = d8
	MOVOU      rcon1b<>(SB), X14
	MOVO       X5, X8
	PSHUFB     X11, X8
	MOVO       X4, X9
	PSHUFB     X12, X9
	PXOR       X9, X8
	MOVO       X3, X9
	PSHUFB     X13, X9
	PXOR       X9, X8
	MOVO       X1, X7
	PSHUFB     X10, X7
	PXOR       X8, X7              // K8
	AESENC     X7, X0

	// Round 9: d9 = d5 ^ SubWord(RotWord(d8)) ^ Rcon, then K9.
	MOVO       X3, X6
	PXOR       X14, X6
	MOVO       X1, X2              // slot 0: d8
	AESENCLAST X6, X1              // row 1 = d9
	PSLLL      $1, X14
	MOVO       X2, X8
	PSHUFB     X11, X8
	MOVO       X5, X9
	PSHUFB     X12, X9
	PXOR       X9, X8
	MOVO       X4, X9
	PSHUFB     X13, X9
	PXOR       X9, X8
	MOVO       X1, X7
	PSHUFB     X10, X7
	PXOR       X8, X7              // K9
	AESENC     X7, X0

	// Round 10: d10 = d6 ^ SubWord(RotWord(d9)) ^ Rcon, then K10.
	MOVO       X4, X6
	PXOR       X14, X6
	MOVO       X1, X3              // slot 1: d9
	AESENCLAST X6, X1              // row 1 = d10
	MOVO       X3, X8
	PSHUFB     X11, X8
	MOVO       X2, X9
	PSHUFB     X12, X9
	PXOR       X9, X8
	MOVO       X5, X9
	PSHUFB     X13, X9
	PXOR       X9, X8
	MOVO       X1, X7
	PSHUFB     X10, X7
	PXOR       X8, X7              // K10
	AESENCLAST X7, X0
	MOVOU      X0, (DX)
	RET

// func decryptBlockAsm(key, dst, src *[16]byte)
// decryptBlockAsm runs the same schedule, keeping InvMixColumns(K1..K9) in
// its frame, then the equivalent inverse cipher from K10 down to K0.
TEXT ·decryptBlockAsm(SB), NOSPLIT, $144-24
	MOVQ       key+0(FP), AX
	MOVQ       dst+8(FP), DX
	MOVQ       src+16(FP), BX
	MOVOU      (AX), X7            // K0 = (a, b, c, d)
	MOVOU      row1W0<>(SB), X6
	MOVOU      row1W1<>(SB), X8
	MOVOU      row1W2<>(SB), X9
	MOVO       X7, X1
	MOVOU      row1W3<>(SB), X10
	PSHUFB     X10, X1             // row 1 = d0: the chain
	MOVO       X1, X2              // slot 0: d0
	MOVO       X7, X3
	PSHUFB     X6, X3              // row 1 = a0
	MOVO       X7, X4
	PSHUFB     X8, X4              // row 1 = b0
	MOVO       X7, X5
	PSHUFB     X9, X5              // row 1 = c0
	PXOR       X4, X3              // row 1 = a0^b0
	PXOR       X1, X4              // slot 2: d_{-2} = b0^d0
	PXOR       X1, X5              // slot 3: d_{-1} = c0^d0
	PXOR       X5, X3              // slot 1: d_{-3} = a0^b0^c0^d0
	MOVOU      row1To1111<>(SB), X10
	MOVOU      row1To1010<>(SB), X11
	MOVOU      row1To1100<>(SB), X12
	MOVOU      row1To1000<>(SB), X13
	MOVOU      rcon01<>(SB), X14

	// Round 1: d1 = d_{-3} ^ SubWord(RotWord(d0)) ^ Rcon, then K1.
	AESENCLAST X14, X1             // row 1 = SubWord(RotWord(d0)) ^ Rcon
	PXOR       X3, X1              // row 1 = d1
	PSLLL      $1, X14
	MOVO       X2, X8
	PSHUFB     X11, X8
	MOVO       X5, X9
	PSHUFB     X12, X9
	PXOR       X9, X8
	MOVO       X4, X9
	PSHUFB     X13, X9
	PXOR       X9, X8
	MOVO       X1, X7
	PSHUFB     X10, X7
	PXOR       X8, X7              // K1
	AESIMC     X7, X9
	MOVOU      X9, 0(SP)           // InvMixColumns(K1)

	// Round 2: d2 = d_{-2} ^ SubWord(RotWord(d1)) ^ Rcon, then K2.
	MOVO       X4, X6
	PXOR       X14, X6
	MOVO       X1, X3              // slot 1: d1
	AESENCLAST X6, X1              // row 1 = d2
	PSLLL      $1, X14
	MOVO       X3, X8
	PSHUFB     X11, X8
	MOVO       X2, X9
	PSHUFB     X12, X9
	PXOR       X9, X8
	MOVO       X5, X9
	PSHUFB     X13, X9
	PXOR       X9, X8
	MOVO       X1, X7
	PSHUFB     X10, X7
	PXOR       X8, X7              // K2
	AESIMC     X7, X9
	MOVOU      X9, 16(SP)          // InvMixColumns(K2)

	// Round 3: d3 = d_{-1} ^ SubWord(RotWord(d2)) ^ Rcon, then K3.
	MOVO       X5, X6
	PXOR       X14, X6
	MOVO       X1, X4              // slot 2: d2
	AESENCLAST X6, X1              // row 1 = d3
	PSLLL      $1, X14
	MOVO       X4, X8
	PSHUFB     X11, X8
	MOVO       X3, X9
	PSHUFB     X12, X9
	PXOR       X9, X8
	MOVO       X2, X9
	PSHUFB     X13, X9
	PXOR       X9, X8
	MOVO       X1, X7
	PSHUFB     X10, X7
	PXOR       X8, X7              // K3
	AESIMC     X7, X9
	MOVOU      X9, 32(SP)          // InvMixColumns(K3)

	// Round 4: d4 = d0 ^ SubWord(RotWord(d3)) ^ Rcon, then K4.
	MOVO       X2, X6
	PXOR       X14, X6
	MOVO       X1, X5              // slot 3: d3
	AESENCLAST X6, X1              // row 1 = d4
	PSLLL      $1, X14
	MOVO       X5, X8
	PSHUFB     X11, X8
	MOVO       X4, X9
	PSHUFB     X12, X9
	PXOR       X9, X8
	MOVO       X3, X9
	PSHUFB     X13, X9
	PXOR       X9, X8
	MOVO       X1, X7
	PSHUFB     X10, X7
	PXOR       X8, X7              // K4
	AESIMC     X7, X9
	MOVOU      X9, 48(SP)          // InvMixColumns(K4)

	// Round 5: d5 = d1 ^ SubWord(RotWord(d4)) ^ Rcon, then K5.
	MOVO       X3, X6
	PXOR       X14, X6
	MOVO       X1, X2              // slot 0: d4
	AESENCLAST X6, X1              // row 1 = d5
	PSLLL      $1, X14
	MOVO       X2, X8
	PSHUFB     X11, X8
	MOVO       X5, X9
	PSHUFB     X12, X9
	PXOR       X9, X8
	MOVO       X4, X9
	PSHUFB     X13, X9
	PXOR       X9, X8
	MOVO       X1, X7
	PSHUFB     X10, X7
	PXOR       X8, X7              // K5
	AESIMC     X7, X9
	MOVOU      X9, 64(SP)          // InvMixColumns(K5)

	// Round 6: d6 = d2 ^ SubWord(RotWord(d5)) ^ Rcon, then K6.
	MOVO       X4, X6
	PXOR       X14, X6
	MOVO       X1, X3              // slot 1: d5
	AESENCLAST X6, X1              // row 1 = d6
	PSLLL      $1, X14
	MOVO       X3, X8
	PSHUFB     X11, X8
	MOVO       X2, X9
	PSHUFB     X12, X9
	PXOR       X9, X8
	MOVO       X5, X9
	PSHUFB     X13, X9
	PXOR       X9, X8
	MOVO       X1, X7
	PSHUFB     X10, X7
	PXOR       X8, X7              // K6
	AESIMC     X7, X9
	MOVOU      X9, 80(SP)          // InvMixColumns(K6)

	// Round 7: d7 = d3 ^ SubWord(RotWord(d6)) ^ Rcon, then K7.
	MOVO       X5, X6
	PXOR       X14, X6
	MOVO       X1, X4              // slot 2: d6
	AESENCLAST X6, X1              // row 1 = d7
	PSLLL      $1, X14
	MOVO       X4, X8
	PSHUFB     X11, X8
	MOVO       X3, X9
	PSHUFB     X12, X9
	PXOR       X9, X8
	MOVO       X2, X9
	PSHUFB     X13, X9
	PXOR       X9, X8
	MOVO       X1, X7
	PSHUFB     X10, X7
	PXOR       X8, X7              // K7
	AESIMC     X7, X9
	MOVOU      X9, 96(SP)          // InvMixColumns(K7)

	// Round 8: d8 = d4 ^ SubWord(RotWord(d7)) ^ Rcon, then K8.
	MOVO       X2, X6
	PXOR       X14, X6
	MOVO       X1, X5              // slot 3: d7
	AESENCLAST X6, X1              // row 1 = d8
	MOVOU      rcon1b<>(SB), X14
	MOVO       X5, X8
	PSHUFB     X11, X8
	MOVO       X4, X9
	PSHUFB     X12, X9
	PXOR       X9, X8
	MOVO       X3, X9
	PSHUFB     X13, X9
	PXOR       X9, X8
	MOVO       X1, X7
	PSHUFB     X10, X7
	PXOR       X8, X7              // K8
	AESIMC     X7, X9
	MOVOU      X9, 112(SP)         // InvMixColumns(K8)

	// Round 9: d9 = d5 ^ SubWord(RotWord(d8)) ^ Rcon, then K9.
	MOVO       X3, X6
	PXOR       X14, X6
	MOVO       X1, X2              // slot 0: d8
	AESENCLAST X6, X1              // row 1 = d9
	PSLLL      $1, X14
	MOVO       X2, X8
	PSHUFB     X11, X8
	MOVO       X5, X9
	PSHUFB     X12, X9
	PXOR       X9, X8
	MOVO       X4, X9
	PSHUFB     X13, X9
	PXOR       X9, X8
	MOVO       X1, X7
	PSHUFB     X10, X7
	PXOR       X8, X7              // K9
	AESIMC     X7, X9
	MOVOU      X9, 128(SP)         // InvMixColumns(K9)

	// Round 10: d10 = d6 ^ SubWord(RotWord(d9)) ^ Rcon, then K10.
	MOVO       X4, X6
	PXOR       X14, X6
	MOVO       X1, X3              // slot 1: d9
	AESENCLAST X6, X1              // row 1 = d10
	MOVO       X3, X8
	PSHUFB     X11, X8
	MOVO       X2, X9
	PSHUFB     X12, X9
	PXOR       X9, X8
	MOVO       X5, X9
	PSHUFB     X13, X9
	PXOR       X9, X8
	MOVO       X1, X7
	PSHUFB     X10, X7
	PXOR       X8, X7              // K10

	MOVOU      (BX), X0
	PXOR       X7, X0              // K10
	MOVOU      128(SP), X9
	AESDEC     X9, X0
	MOVOU      112(SP), X9
	AESDEC     X9, X0
	MOVOU      96(SP), X9
	AESDEC     X9, X0
	MOVOU      80(SP), X9
	AESDEC     X9, X0
	MOVOU      64(SP), X9
	AESDEC     X9, X0
	MOVOU      48(SP), X9
	AESDEC     X9, X0
	MOVOU      32(SP), X9
	AESDEC     X9, X0
	MOVOU      16(SP), X9
	AESDEC     X9, X0
	MOVOU      0(SP), X9
	AESDEC     X9, X0
	MOVOU      (AX), X9            // K0 (dst is written only below)
	AESDECLAST X9, X0
	MOVOU      X0, (DX)
	RET
