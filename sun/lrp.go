package sun

// This file implements the Leakage Resilient Primitive of NXP AN12304 with
// m = 4 (16 plaintexts, one AES step per 4-bit nibble), its counter-mode
// encryption LRICB and CMAC_LRP. Every AES call goes through encryptBlock and
// decryptBlock, which take a fresh key each time.

// Constant blocks used to derive plaintexts, updated keys and the final step.
var (
	lrpBlock55 = [16]byte{0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55, 0x55}
	lrpBlockAA = [16]byte{0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA, 0xAA}
	lrpBlock00 [16]byte
)

// lrp holds an LRP key: the 16 plaintexts of a base key and its first updated keys.
type lrp struct {
	p   [16][16]byte
	uk  [4][16]byte
	nuk int // how many updated keys were generated
}

// init derives the 16 plaintexts and the first nUK (1..4) updated keys of key.
func (l *lrp) init(key *[16]byte, nUK int) {
	if nUK < 1 || nUK > len(l.uk) {
		panic("sun: LRP updated key count out of range")
	}
	var h, t [16]byte
	// generatePlaintexts: h = E(K, 55..); P[i] = E(h, AA..); h = E(h, 55..).
	encryptBlock(key, &h, &lrpBlock55)
	for i := range l.p {
		encryptBlock(&h, &l.p[i], &lrpBlockAA)
		encryptBlock(&h, &t, &lrpBlock55)
		h = t
	}
	// generateUpdatedKeys: h = E(K, AA..); UK[i] = E(h, AA..); h = E(h, 55..).
	encryptBlock(key, &h, &lrpBlockAA)
	for i := 0; i < nUK; i++ {
		encryptBlock(&h, &l.uk[i], &lrpBlockAA)
		encryptBlock(&h, &t, &lrpBlock55)
		h = t
	}
	for i := nUK; i < len(l.uk); i++ {
		l.uk[i] = [16]byte{}
	}
	l.nuk = nUK
}

// updatedKey returns updated key u, panicking if it was not generated.
func (l *lrp) updatedKey(u int) [16]byte {
	if u < 0 || u >= l.nuk {
		panic("sun: LRP updated key index out of range")
	}
	return l.uk[u]
}

// step performs one LRP step: *y = E(*y, P[n]) for the nibble n (0..15).
func (l *lrp) step(y *[16]byte, n byte) {
	var t [16]byte
	encryptBlock(y, &t, &l.p[n&0x0f])
	*y = t
}

// lrpFinish performs the finalisation step *y = E(*y, 0^128).
func lrpFinish(y *[16]byte) {
	var t [16]byte
	encryptBlock(y, &t, &lrpBlock00)
	*y = t
}

// eval is EvalLRP with updated key u over a nibble string (one value 0..15 per byte).
func (l *lrp) eval(u int, nibbles []byte, final bool) [16]byte {
	y := l.updatedKey(u)
	for _, n := range nibbles {
		if n > 0x0f {
			panic("sun: LRP nibble out of range")
		}
		l.step(&y, n)
	}
	if final {
		lrpFinish(&y)
	}
	return y
}

// evalBytes is EvalLRP with updated key u over in read as 2 nibbles per byte, high first.
func (l *lrp) evalBytes(u int, in []byte, final bool) [16]byte {
	y := l.updatedKey(u)
	for _, b := range in {
		l.step(&y, b>>4)
		l.step(&y, b&0x0f)
	}
	if final {
		lrpFinish(&y)
	}
	return y
}

// lrpIncrement adds 1 to counter as a big-endian integer of its own width, wrapping.
func lrpIncrement(counter []byte) {
	for i := len(counter) - 1; i >= 0; i-- {
		counter[i]++
		if counter[i] != 0 {
			return
		}
	}
}

// lricbCheckLen panics unless src is whole blocks and dst can hold it.
func lricbCheckLen(dst, src []byte) {
	if len(src)%16 != 0 {
		panic("sun: LRICB input is not a multiple of the block size")
	}
	if len(dst) < len(src) {
		panic("sun: LRICB output smaller than input")
	}
}

// lricbEncrypt encrypts whole blocks of src into dst (may equal src) with unpadded LRICB, advancing counter.
func (l *lrp) lricbEncrypt(u int, counter []byte, dst, src []byte) {
	lricbCheckLen(dst, src)
	var in, out [16]byte
	for i := 0; i < len(src); i += 16 {
		k := l.evalBytes(u, counter, true)
		copy(in[:], src[i:i+16])
		encryptBlock(&k, &out, &in)
		copy(dst[i:i+16], out[:])
		lrpIncrement(counter)
	}
}

// lricbDecrypt decrypts whole blocks of src into dst (may equal src) with unpadded LRICB, advancing counter.
func (l *lrp) lricbDecrypt(u int, counter []byte, dst, src []byte) {
	lricbCheckLen(dst, src)
	var in, out [16]byte
	for i := 0; i < len(src); i += 16 {
		k := l.evalBytes(u, counter, true)
		copy(in[:], src[i:i+16])
		decryptBlock(&k, &out, &in)
		copy(dst[i:i+16], out[:])
		lrpIncrement(counter)
	}
}

// lricbEncryptPadded appends to dst the LRICB encryption of src after ISO/IEC 9797-1 method 2 padding.
func (l *lrp) lricbEncryptPadded(u int, counter []byte, dst, src []byte) []byte {
	n := (len(src)/16 + 1) * 16
	start := len(dst)
	dst = append(dst, make([]byte, n)...)
	out := dst[start:]
	copy(out, src)
	out[len(src)] = 0x80 // the rest is already zero
	l.lricbEncrypt(u, counter, out, out)
	return dst
}

// lricbDecryptPadded appends the LRICB decryption of src, 9797-1 method 2 padding removed, to dst; ok is false on bad padding.
func (l *lrp) lricbDecryptPadded(u int, counter []byte, dst, src []byte) (out []byte, ok bool) {
	if len(src) == 0 || len(src)%16 != 0 {
		return dst, false
	}
	start := len(dst)
	dst = append(dst, make([]byte, len(src))...)
	plain := dst[start:]
	l.lricbDecrypt(u, counter, plain, src)
	i := len(plain) - 1
	for i >= len(plain)-16 && plain[i] == 0 {
		i--
	}
	if i < len(plain)-16 || plain[i] != 0x80 {
		return dst[:start], false
	}
	return dst[:start+i], true
}

// lrpCMAC is CMAC_LRP with its subkeys computed once.
type lrpCMAC struct {
	l      *lrp
	k1, k2 [16]byte
}

// newLRPCMAC computes the CMAC_LRP subkeys of l with updated key UK[0].
func newLRPCMAC(l *lrp) lrpCMAC {
	c := lrpCMAC{l: l}
	lb := l.evalBytes(0, lrpBlock00[:], true)
	c.k1 = dbl(lb)
	c.k2 = dbl(c.k1)
	return c
}

// block applies the CMAC_LRP block function x -> EvalLRP(P, UK[0], x, final) in place.
func (c *lrpCMAC) block(x *[16]byte) {
	*x = c.l.evalBytes(0, x[:], true)
}

// sum returns the full 16-byte CMAC_LRP of msg.
func (c *lrpCMAC) sum(msg []byte) [16]byte {
	var x [16]byte
	for len(msg) > 16 {
		xorInto(&x, msg[:16])
		c.block(&x)
		msg = msg[16:]
	}
	xorInto(&x, msg)
	if len(msg) == 16 {
		xorInto(&x, c.k1[:])
	} else {
		x[len(msg)] ^= 0x80
		xorInto(&x, c.k2[:])
	}
	c.block(&x)
	return x
}
