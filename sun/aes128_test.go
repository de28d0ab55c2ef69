package sun

import (
	"crypto/aes"
	"encoding/hex"
	"math/bits"
	"math/rand/v2"
	"testing"
)

// aesBlockImpl is one implementation of the single-use block operations.
type aesBlockImpl struct {
	name     string
	enc, dec func(key, dst, src *[16]byte)
}

// aesBlockImpls lists the dispatching functions (assembly where available)
// and the portable ones, which are tested whatever the architecture.
var aesBlockImpls = []aesBlockImpl{
	{"dispatch", encryptBlock, decryptBlock},
	{"generic", encryptBlockGeneric, decryptBlockGeneric},
}

// aesHexBlock decodes a hex string into a block or fails the test.
func aesHexBlock(t testing.TB, s string) [16]byte {
	t.Helper()
	var b [16]byte
	if n, err := hex.Decode(b[:], []byte(s)); err != nil || n != 16 {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// TestAESBlockFIPS197 checks the FIPS-197 Appendix C.1 AES-128 vector.
func TestAESBlockFIPS197(t *testing.T) {
	t.Logf("haveAESAsm = %v", haveAESAsm)
	key := aesHexBlock(t, "000102030405060708090a0b0c0d0e0f")
	pt := aesHexBlock(t, "00112233445566778899aabbccddeeff")
	ct := aesHexBlock(t, "69c4e0d86a7b0430d8cdb78070b4c55a")
	for _, impl := range aesBlockImpls {
		var got [16]byte
		impl.enc(&key, &got, &pt)
		if got != ct {
			t.Errorf("%s encrypt = %x, want %x", impl.name, got, ct)
		}
		impl.dec(&key, &got, &ct)
		if got != pt {
			t.Errorf("%s decrypt = %x, want %x", impl.name, got, pt)
		}
	}
}

// TestAESBlockRandom compares every implementation with crypto/aes on
// random keys and blocks, including dst aliasing src and dst aliasing key.
func TestAESBlockRandom(t *testing.T) {
	r := rand.New(rand.NewChaCha8([32]byte{'t', 'a', 'g', 'd'}))
	n := 10000
	if testing.Short() {
		n = 1000
	}
	for i := 0; i < n; i++ {
		var key, src, wantEnc, wantDec [16]byte
		for j := range key {
			key[j] = byte(r.Uint32())
			src[j] = byte(r.Uint32())
		}
		b, err := aes.NewCipher(key[:])
		if err != nil {
			t.Fatal(err)
		}
		b.Encrypt(wantEnc[:], src[:])
		b.Decrypt(wantDec[:], src[:])

		for _, impl := range aesBlockImpls {
			check := func(op string, got, want [16]byte) {
				t.Helper()
				if got != want {
					t.Fatalf("%s %s(key %x, src %x) = %x, want %x", impl.name, op, key, src, got, want)
				}
			}
			var dst [16]byte
			impl.enc(&key, &dst, &src)
			check("encrypt", dst, wantEnc)
			impl.dec(&key, &dst, &src)
			check("decrypt", dst, wantDec)

			buf := src
			impl.enc(&key, &buf, &buf)
			check("encrypt dst==src", buf, wantEnc)
			buf = src
			impl.dec(&key, &buf, &buf)
			check("decrypt dst==src", buf, wantDec)

			k := key
			impl.enc(&k, &k, &src)
			check("encrypt dst==key", k, wantEnc)
			k = key
			impl.dec(&k, &k, &src)
			check("decrypt dst==key", k, wantDec)

			k = key
			impl.enc(&k, &k, &k)
			var wantSelf [16]byte
			b.Encrypt(wantSelf[:], key[:])
			check("encrypt dst==src==key", k, wantSelf)
			k = key
			impl.dec(&k, &k, &k)
			b.Decrypt(wantSelf[:], key[:])
			check("decrypt dst==src==key", k, wantSelf)
		}
	}
}

// TestAESBlockTables rebuilds the generic implementation's tables from the
// GF(2^8) definitions in FIPS-197.
func TestAESBlockTables(t *testing.T) {
	mul := func(a, b byte) byte {
		var p byte
		for ; b != 0; b >>= 1 {
			if b&1 != 0 {
				p ^= a
			}
			a = a<<1 ^ 0x1b*(a>>7)
		}
		return p
	}
	for x := 0; x < 256; x++ {
		var inv byte
		for y := 1; y < 256 && x != 0; y++ {
			if mul(byte(x), byte(y)) == 1 {
				inv = byte(y)
			}
		}
		s := inv ^ bits.RotateLeft8(inv, 1) ^ bits.RotateLeft8(inv, 2) ^
			bits.RotateLeft8(inv, 3) ^ bits.RotateLeft8(inv, 4) ^ 0x63
		if aesSbox[x] != s {
			t.Fatalf("aesSbox[%#x] = %#x, want %#x", x, aesSbox[x], s)
		}
		if aesInvSbox[s] != byte(x) {
			t.Fatalf("aesInvSbox[%#x] = %#x, want %#x", s, aesInvSbox[s], x)
		}
		te := uint32(mul(s, 2))<<24 | uint32(s)<<16 | uint32(s)<<8 | uint32(mul(s, 3))
		if aesTe[x] != te {
			t.Fatalf("aesTe[%#x] = %#x, want %#x", x, aesTe[x], te)
		}
		v := aesInvSbox[x]
		td := uint32(mul(v, 14))<<24 | uint32(mul(v, 9))<<16 | uint32(mul(v, 13))<<8 | uint32(mul(v, 11))
		if aesTd[x] != td {
			t.Fatalf("aesTd[%#x] = %#x, want %#x", x, aesTd[x], td)
		}
	}
	rc := byte(1)
	for i, got := range aesRcon {
		if got != rc {
			t.Fatalf("aesRcon[%d] = %#x, want %#x", i, got, rc)
		}
		rc = mul(rc, 2)
	}
}

// TestAESBlockAllocs asserts that no implementation allocates.
func TestAESBlockAllocs(t *testing.T) {
	var key, buf [16]byte
	for _, impl := range aesBlockImpls {
		enc, dec := impl.enc, impl.dec
		if a := testing.AllocsPerRun(100, func() { enc(&key, &buf, &buf) }); a != 0 {
			t.Errorf("%s encrypt: %v allocs per run, want 0", impl.name, a)
		}
		if a := testing.AllocsPerRun(100, func() { dec(&key, &buf, &buf) }); a != 0 {
			t.Errorf("%s decrypt: %v allocs per run, want 0", impl.name, a)
		}
	}
	// Direct calls with stack arrays, as LRP makes them, must not allocate
	// either (the pointers must not escape).
	if a := testing.AllocsPerRun(100, func() {
		var k, b [16]byte
		encryptBlock(&k, &k, &b)
		decryptBlock(&k, &b, &b)
		encryptBlockGeneric(&k, &k, &b)
		decryptBlockGeneric(&k, &b, &b)
		if k == b { // use the results
			key[0]++
		}
	}); a != 0 {
		t.Errorf("direct calls: %v allocs per run, want 0", a)
	}
}

// BenchmarkEncryptBlock measures encryptBlock chained as in LRP, where each
// output becomes the next key.
func BenchmarkEncryptBlock(b *testing.B) {
	var key, src [16]byte
	b.ReportAllocs()
	for b.Loop() {
		encryptBlock(&key, &key, &src)
	}
}

// BenchmarkEncryptBlockGeneric is BenchmarkEncryptBlock for the portable code.
func BenchmarkEncryptBlockGeneric(b *testing.B) {
	var key, src [16]byte
	b.ReportAllocs()
	for b.Loop() {
		encryptBlockGeneric(&key, &key, &src)
	}
}

// BenchmarkDecryptBlock measures decryptBlock chained the same way.
func BenchmarkDecryptBlock(b *testing.B) {
	var key, src [16]byte
	b.ReportAllocs()
	for b.Loop() {
		decryptBlock(&key, &key, &src)
	}
}

// BenchmarkDecryptBlockGeneric is BenchmarkDecryptBlock for the portable code.
func BenchmarkDecryptBlockGeneric(b *testing.B) {
	var key, src [16]byte
	b.ReportAllocs()
	for b.Loop() {
		decryptBlockGeneric(&key, &key, &src)
	}
}

// BenchmarkStdlibNewCipherEncrypt is the baseline: aes.NewCipher plus one
// Encrypt per key, chained the same way.
func BenchmarkStdlibNewCipherEncrypt(b *testing.B) {
	key := make([]byte, 16)
	var src [16]byte
	b.ReportAllocs()
	for b.Loop() {
		c, err := aes.NewCipher(key)
		if err != nil {
			b.Fatal(err)
		}
		c.Encrypt(key, src[:])
	}
}
