package sun

import (
	"crypto/aes"
	"crypto/cipher"
)

// bytesOrString is the input of the MAC functions: MAC inputs are cut from
// a URL string without copying, keys and session vectors are byte slices.
type bytesOrString interface{ ~string | ~[]byte }

// cmacKey is an AES-CMAC key (RFC 4493) with its subkeys computed once.
type cmacKey struct {
	block  cipher.Block
	k1, k2 [16]byte
}

// init expands nothing: it computes the CMAC subkeys of an expanded AES
// key, using x as scratch space (x must not be on the caller's stack when
// the caller wants to stay allocation-free; see scratch).
func (c *cmacKey) init(b cipher.Block, x *[16]byte) {
	c.block = b
	*x = [16]byte{}
	b.Encrypt(x[:], x[:])
	c.k1 = dbl(*x)
	c.k2 = dbl(c.k1)
}

// dbl multiplies a block by x in GF(2^128) as CMAC defines it.
func dbl(in [16]byte) [16]byte {
	var out [16]byte
	carry := in[0] >> 7
	for i := 0; i < 15; i++ {
		out[i] = in[i]<<1 | in[i+1]>>7
	}
	out[15] = in[15]<<1 ^ (0x87 & -carry)
	return out
}

// cmacSum computes the full 16-byte CMAC of msg into x.
func cmacSum[T bytesOrString](c *cmacKey, x *[16]byte, msg T) {
	*x = [16]byte{}
	for len(msg) > 16 {
		xorInto(x, msg[:16])
		c.block.Encrypt(x[:], x[:])
		msg = msg[16:]
	}
	xorInto(x, msg)
	if len(msg) == 16 {
		xorBlock(x, &c.k1)
	} else {
		x[len(msg)] ^= 0x80
		xorBlock(x, &c.k2)
	}
	c.block.Encrypt(x[:], x[:])
}

// xorInto xors src into the first len(src) bytes of dst.
func xorInto[T bytesOrString](dst *[16]byte, src T) {
	for i := 0; i < len(src); i++ {
		dst[i] ^= src[i]
	}
}

// xorBlock xors a whole block into dst.
func xorBlock(dst, src *[16]byte) {
	for i := range dst {
		dst[i] ^= src[i]
	}
}

// CMAC returns the AES-CMAC (RFC 4493) of msg under a 16-, 24- or 32-byte
// AES key.
func CMAC(key, msg []byte) ([16]byte, error) {
	b, err := aes.NewCipher(key)
	if err != nil {
		return [16]byte{}, errKeyLength(len(key))
	}
	var c cmacKey
	x := new([16]byte)
	c.init(b, x)
	cmacSum(&c, x, msg)
	return *x, nil
}

// Truncate returns the 8-byte SDMMAC of a full CMAC: the bytes at the odd
// zero-based indices 1, 3, …, 15 (the datasheet's "even-numbered" bytes).
func Truncate(full [16]byte) [8]byte {
	var t [8]byte
	for i := range t {
		t[i] = full[2*i+1]
	}
	return t
}

// newCMACKey returns the CMAC key of an expanded AES key.
func newCMACKey(b cipher.Block) cmacKey {
	var c cmacKey
	c.init(b, new([16]byte))
	return c
}

// sum returns the full CMAC of msg (a convenience for cold paths).
func (c *cmacKey) sum(msg []byte) [16]byte {
	x := new([16]byte)
	cmacSum(c, x, msg)
	return *x
}

// cmacOneShot computes into x the full CMAC of msg under an AES-128 key
// that is used for this one message (an SDM session key): it expands the
// key per block with the allocation-free encryptBlock instead of building
// a cipher.Block, which costs more than the whole MAC for short inputs.
func cmacOneShot[T bytesOrString](key, x *[16]byte, msg T) {
	var k [16]byte
	encryptBlock(key, &k, &k) // L
	k = dbl(k)                // K1
	*x = [16]byte{}
	for len(msg) > 16 {
		xorInto(x, msg[:16])
		encryptBlock(key, x, x)
		msg = msg[16:]
	}
	xorInto(x, msg)
	if len(msg) != 16 {
		x[len(msg)] ^= 0x80
		k = dbl(k) // K2
	}
	xorBlock(x, &k)
	encryptBlock(key, x, x)
}

// cbcDecryptOneShot decrypts whole blocks in CBC mode under a key used for
// this message only.
func cbcDecryptOneShot(key, iv *[16]byte, dst, src []byte) {
	prev := *iv
	var in, out [16]byte
	for len(src) >= 16 {
		copy(in[:], src[:16])
		decryptBlock(key, &out, &in)
		xorBlock(&out, &prev)
		copy(dst[:16], out[:])
		prev = in
		src, dst = src[16:], dst[16:]
	}
}
