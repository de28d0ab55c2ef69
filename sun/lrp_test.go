package sun

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"testing"
)

// lrpVector is one entry of testdata/lrp-vectors.json.
type lrpVector struct {
	Name            string            `json:"name"`
	Kind            string            `json:"kind"`
	Key             string            `json:"key"`
	UpdatedKeyIndex *int              `json:"updated_key_index"`
	InputNibbles    string            `json:"input_nibbles"`
	Finalize        *bool             `json:"finalize"`
	Message         *string           `json:"message"`
	Counter         string            `json:"counter"`
	Padding         string            `json:"padding"`
	Plaintext       string            `json:"plaintext"`
	Expect          map[string]string `json:"expect"`
}

// loadLRPVectors reads and decodes testdata/lrp-vectors.json.
func loadLRPVectors(t *testing.T) []lrpVector {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "testdata", "lrp-vectors.json"))
	if err != nil {
		t.Fatal(err)
	}
	var vs []lrpVector
	if err := json.Unmarshal(data, &vs); err != nil {
		t.Fatal(err)
	}
	return vs
}

// lrpHex decodes a hex string (any case) or fails the test.
func lrpHex(t *testing.T, what, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("%s: bad hex %q: %v", what, s, err)
	}
	return b
}

// lrpKey16 decodes a 16-byte hex key or fails the test.
func lrpKey16(t *testing.T, s string) *[16]byte {
	t.Helper()
	b := lrpHex(t, "key", s)
	if len(b) != 16 {
		t.Fatalf("key %q is %d bytes, want 16", s, len(b))
	}
	return (*[16]byte)(b)
}

// lrpParseNibbles turns a hex string into one nibble value per byte (odd length allowed).
func lrpParseNibbles(t *testing.T, s string) []byte {
	t.Helper()
	out := make([]byte, len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
			out[i] = c - '0'
		case c >= 'a' && c <= 'f':
			out[i] = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			out[i] = c - 'A' + 10
		default:
			t.Fatalf("bad nibble %q in %q", c, s)
		}
	}
	return out
}

// lrpCheckExpect compares every field of want with the hex value computed for it, failing on fields it cannot check.
func lrpCheckExpect(t *testing.T, want map[string]string, got map[string][]byte) {
	t.Helper()
	if len(want) == 0 {
		t.Fatal("vector has no expectations")
	}
	keys := make([]string, 0, len(want))
	for k := range want {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		g, ok := got[k]
		if !ok {
			t.Errorf("expect.%s: field not checked by this test", k)
			continue
		}
		if w := want[k]; !strings.EqualFold(hex.EncodeToString(g), w) {
			t.Errorf("expect.%s = %X, want %s", k, g, w)
		}
	}
}

// TestLRPVectors checks every entry of testdata/lrp-vectors.json.
func TestLRPVectors(t *testing.T) {
	vs := loadLRPVectors(t)
	if len(vs) != 103 {
		t.Errorf("got %d vectors, want 103", len(vs))
	}
	seen := map[string]bool{}
	kinds := map[string]int{}
	for _, v := range vs {
		if v.Name == "" || seen[v.Name] {
			t.Errorf("vector name %q empty or duplicated", v.Name)
		}
		seen[v.Name] = true
		kinds[v.Kind]++
		t.Run(v.Name, func(t *testing.T) {
			switch v.Kind {
			case "lrp_eval":
				testLRPEvalVector(t, v)
			case "lrp_cmac":
				testLRPCMACVector(t, v)
			case "lrp_plaintexts":
				testLRPPlaintextsVector(t, v)
			case "lrp_updated_keys":
				testLRPUpdatedKeysVector(t, v)
			case "lricb":
				testLRICBVector(t, v)
			default:
				t.Fatalf("unknown kind %q", v.Kind)
			}
		})
	}
	t.Logf("vectors per kind: %v", kinds)
}

// testLRPEvalVector checks one EvalLRP vector with both eval and, for even lengths, evalBytes.
func testLRPEvalVector(t *testing.T, v lrpVector) {
	if v.UpdatedKeyIndex == nil || v.Finalize == nil {
		t.Fatal("missing updated_key_index or finalize")
	}
	u := *v.UpdatedKeyIndex
	var l lrp
	l.init(lrpKey16(t, v.Key), 4)
	nib := lrpParseNibbles(t, v.InputNibbles)
	got := l.eval(u, nib, *v.Finalize)
	lrpCheckExpect(t, v.Expect, map[string][]byte{"result": got[:]})

	// A smaller key that holds exactly the updated keys needed must agree.
	var small lrp
	small.init(lrpKey16(t, v.Key), u+1)
	if g := small.eval(u, nib, *v.Finalize); g != got {
		t.Errorf("init(key, %d).eval = %X, init(key, 4).eval = %X", u+1, g, got)
	}
	if len(nib)%2 == 0 {
		in := lrpHex(t, "input_nibbles", v.InputNibbles)
		if g := l.evalBytes(u, in, *v.Finalize); g != got {
			t.Errorf("evalBytes = %X, eval = %X", g, got)
		}
	}
}

// testLRPCMACVector checks one CMAC_LRP vector: the MAC and the subkey used for the last block.
func testLRPCMACVector(t *testing.T, v lrpVector) {
	if v.Message == nil {
		t.Fatal("missing message")
	}
	msg := lrpHex(t, "message", *v.Message)
	var l lrp
	l.init(lrpKey16(t, v.Key), 1)
	c := newLRPCMAC(&l)
	mac := c.sum(msg)
	sub := c.k2
	if len(msg) > 0 && len(msg)%16 == 0 {
		sub = c.k1
	}
	lrpCheckExpect(t, v.Expect, map[string][]byte{"mac": mac[:], "subkey_used": sub[:]})
}

// testLRPPlaintextsVector checks the generated plaintexts P[0] and P[15].
func testLRPPlaintextsVector(t *testing.T, v lrpVector) {
	var l lrp
	l.init(lrpKey16(t, v.Key), 1)
	got := map[string][]byte{}
	for i := range l.p {
		got["p"+strconv.Itoa(i)] = l.p[i][:]
	}
	lrpCheckExpect(t, v.Expect, got)
}

// testLRPUpdatedKeysVector checks the generated updated keys.
func testLRPUpdatedKeysVector(t *testing.T, v lrpVector) {
	var l lrp
	l.init(lrpKey16(t, v.Key), 4)
	if l.nuk != 4 {
		t.Errorf("nuk = %d, want 4", l.nuk)
	}
	got := map[string][]byte{}
	for i := range l.uk {
		got["uk"+strconv.Itoa(i)] = l.uk[i][:]
	}
	lrpCheckExpect(t, v.Expect, got)
}

// testLRICBVector checks the padded LRICB vector in both directions and the counter advance.
func testLRICBVector(t *testing.T, v lrpVector) {
	if v.UpdatedKeyIndex == nil {
		t.Fatal("missing updated_key_index")
	}
	if !strings.Contains(v.Padding, "9797-1 method 2") {
		t.Fatalf("unsupported padding %q", v.Padding)
	}
	u := *v.UpdatedKeyIndex
	var l lrp
	l.init(lrpKey16(t, v.Key), u+1)
	pt := lrpHex(t, "plaintext", v.Plaintext)
	ctr0 := lrpHex(t, "counter", v.Counter)

	ctr := bytes.Clone(ctr0)
	ct := l.lricbEncryptPadded(u, ctr, nil, pt)
	lrpCheckExpect(t, v.Expect, map[string][]byte{"ciphertext": ct})
	blocks := len(ct) / 16
	if want := lrpAddCounter(ctr0, blocks); !bytes.Equal(ctr, want) {
		t.Errorf("counter after encrypt = %X, want %X", ctr, want)
	}

	want := lrpHex(t, "expect.ciphertext", v.Expect["ciphertext"])
	ctr = bytes.Clone(ctr0)
	back, ok := l.lricbDecryptPadded(u, ctr, nil, want)
	if !ok || !bytes.Equal(back, pt) {
		t.Errorf("lricbDecryptPadded = %X, %v; want %X, true", back, ok, pt)
	}
	if want := lrpAddCounter(ctr0, blocks); !bytes.Equal(ctr, want) {
		t.Errorf("counter after decrypt = %X, want %X", ctr, want)
	}

	// The unpadded core, in place, block by block with a carried counter.
	ctr = bytes.Clone(ctr0)
	buf := bytes.Clone(want)
	for i := 0; i < len(buf); i += 16 {
		l.lricbDecrypt(u, ctr, buf[i:i+16], buf[i:i+16])
	}
	padded := append(bytes.Clone(pt), 0x80)
	padded = append(padded, make([]byte, len(want)-len(padded))...)
	if !bytes.Equal(buf, padded) {
		t.Errorf("in-place lricbDecrypt = %X, want %X", buf, padded)
	}
}

// lrpAddCounter returns c plus n as a big-endian integer of the same width, wrapping.
func lrpAddCounter(c []byte, n int) []byte {
	out := bytes.Clone(c)
	for ; n > 0; n-- {
		for i := len(out) - 1; i >= 0; i-- {
			out[i]++
			if out[i] != 0 {
				break
			}
		}
	}
	return out
}

// TestLRPCounterWrap checks that the LRICB counter increments big-endian and wraps at its width.
func TestLRPCounterWrap(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"00", "01"}, {"ff", "00"}, {"00ff", "0100"}, {"ffffffff", "00000000"},
		{"c3315dbf", "c3315dc0"}, {"12ffffff", "13000000"}, {"", ""},
	} {
		c, _ := hex.DecodeString(tc.in)
		lrpIncrement(c)
		if got := hex.EncodeToString(c); got != tc.want {
			t.Errorf("increment(%s) = %s, want %s", tc.in, got, tc.want)
		}
	}
}

// TestLRICBRoundTrip checks unpadded LRICB encrypt/decrypt over several blocks, in place and not, with a wrapping counter.
func TestLRICBRoundTrip(t *testing.T) {
	var l lrp
	key := [16]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}
	l.init(&key, 2)
	pt := make([]byte, 64)
	for i := range pt {
		pt[i] = byte(i * 7)
	}
	ctr0 := []byte{0xff, 0xff, 0xfe}
	ctr := bytes.Clone(ctr0)
	ct := make([]byte, len(pt))
	l.lricbEncrypt(1, ctr, ct, pt)
	if !bytes.Equal(ctr, []byte{0, 0, 2}) {
		t.Errorf("counter = %X, want 000002", ctr)
	}
	// Block i must equal a single-block encryption under counter ctr0+i.
	for i := 0; i < 4; i++ {
		c := lrpAddCounter(ctr0, i)
		one := make([]byte, 16)
		l.lricbEncrypt(1, c, one, pt[16*i:16*i+16])
		if !bytes.Equal(one, ct[16*i:16*i+16]) {
			t.Errorf("block %d: %X, want %X", i, ct[16*i:16*i+16], one)
		}
	}
	ctr = bytes.Clone(ctr0)
	l.lricbDecrypt(1, ctr, ct, ct)
	if !bytes.Equal(ct, pt) {
		t.Errorf("round trip = %X, want %X", ct, pt)
	}
	// A different updated key gives a different ciphertext.
	a, b := make([]byte, 16), make([]byte, 16)
	l.lricbEncrypt(0, bytes.Clone(ctr0), a, pt[:16])
	l.lricbEncrypt(1, bytes.Clone(ctr0), b, pt[:16])
	if bytes.Equal(a, b) {
		t.Error("UK[0] and UK[1] gave the same LRICB ciphertext")
	}
}

// TestLRICBPaddedErrors checks that malformed padded input is rejected.
func TestLRICBPaddedErrors(t *testing.T) {
	var l lrp
	var key [16]byte
	l.init(&key, 1)
	for _, n := range []int{0, 15, 17} {
		if _, ok := l.lricbDecryptPadded(0, []byte{0}, nil, make([]byte, n)); ok {
			t.Errorf("length %d accepted", n)
		}
	}
	// A block without an 80 marker in its final 16 bytes.
	bad := make([]byte, 16)
	l.lricbEncrypt(0, []byte{0}, bad, bad)
	if _, ok := l.lricbDecryptPadded(0, []byte{0}, nil, bad); ok {
		t.Error("all-zero plaintext accepted as padded")
	}
	// Every plaintext length 0..33 round-trips, appending after a prefix.
	for n := 0; n <= 33; n++ {
		pt := bytes.Repeat([]byte{0x80}, n)
		ct := l.lricbEncryptPadded(0, []byte{9, 9}, []byte("pre"), pt)
		if len(ct) != 3+(n/16+1)*16 || string(ct[:3]) != "pre" {
			t.Fatalf("n=%d: bad output length %d or prefix", n, len(ct))
		}
		back, ok := l.lricbDecryptPadded(0, []byte{9, 9}, []byte("x"), ct[3:])
		if !ok || !bytes.Equal(back[1:], pt) || back[0] != 'x' {
			t.Errorf("n=%d: round trip = %X, %v", n, back, ok)
		}
	}
}

// TestLRPInitPanics checks that an out-of-range updated key count or index panics.
func TestLRPInitPanics(t *testing.T) {
	var key [16]byte
	lrpMustPanic := func(name string, f func()) {
		t.Helper()
		defer func() {
			if recover() == nil {
				t.Errorf("%s did not panic", name)
			}
		}()
		f()
	}
	lrpMustPanic("init(0)", func() { var l lrp; l.init(&key, 0) })
	lrpMustPanic("init(5)", func() { var l lrp; l.init(&key, 5) })
	var l lrp
	l.init(&key, 2)
	lrpMustPanic("eval(u=2)", func() { l.eval(2, nil, true) })
	lrpMustPanic("evalBytes(u=-1)", func() { l.evalBytes(-1, nil, true) })
	lrpMustPanic("eval nibble 16", func() { l.eval(0, []byte{16}, true) })
	lrpMustPanic("lricb odd length", func() { l.lricbDecrypt(0, []byte{0}, make([]byte, 16), make([]byte, 15)) })
	lrpMustPanic("lricb short dst", func() { l.lricbEncrypt(0, []byte{0}, make([]byte, 15), make([]byte, 16)) })
	// Re-init with fewer keys must forget the extra ones.
	l.init(&key, 4)
	l.init(&key, 1)
	lrpMustPanic("eval(u=1) after re-init", func() { l.eval(1, nil, true) })
}

// TestLRPAllocs checks that eval, evalBytes, CMAC_LRP sum and lricbDecrypt do not allocate.
func TestLRPAllocs(t *testing.T) {
	var k, d, s [16]byte
	if n := testing.AllocsPerRun(100, func() { encryptBlock(&k, &d, &s) }); n != 0 {
		t.Skipf("encryptBlock itself does %v allocations per call", n)
	}
	if n := testing.AllocsPerRun(100, func() { decryptBlock(&k, &d, &s) }); n != 0 {
		t.Skipf("decryptBlock itself does %v allocations per call", n)
	}
	var l lrp
	key := [16]byte{0x42}
	l.init(&key, 2)
	c := newLRPCMAC(&l)
	nib := []byte{1, 3, 5, 9, 15}
	msg := make([]byte, 37)
	ctr := make([]byte, 8)
	buf := make([]byte, 32)
	var sink [16]byte
	for _, tc := range []struct {
		name string
		f    func()
	}{
		{"eval", func() { sink = l.eval(1, nib, true) }},
		{"evalBytes", func() { sink = l.evalBytes(0, msg[:16], true) }},
		{"lrpCMAC.sum", func() { sink = c.sum(msg) }},
		{"lricbDecrypt", func() { l.lricbDecrypt(1, ctr, buf, buf) }},
		{"lricbEncrypt", func() { l.lricbEncrypt(1, ctr, buf, buf) }},
	} {
		if n := testing.AllocsPerRun(100, tc.f); n != 0 {
			t.Errorf("%s: %v allocations per call, want 0", tc.name, n)
		}
	}
	_ = sink
}

// BenchmarkLRPCMAC16 measures CMAC_LRP of a 16-byte message with a pre-initialised key.
func BenchmarkLRPCMAC16(b *testing.B) {
	var l lrp
	key := [16]byte{0x5c}
	l.init(&key, 2)
	c := newLRPCMAC(&l)
	msg := make([]byte, 16)
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		mac := c.sum(msg)
		msg[0] = mac[0]
	}
}

// BenchmarkLRPInit measures deriving the plaintexts and 2 updated keys of a key.
func BenchmarkLRPInit(b *testing.B) {
	var l lrp
	key := [16]byte{0x5c}
	b.ReportAllocs()
	for b.Loop() {
		l.init(&key, 2)
		key[0] = l.p[0][0]
	}
}

// TestLRPCMACReference compares lrpCMAC.sum with a plain pad-then-chain CMAC over the same block function for lengths 0..64.
func TestLRPCMACReference(t *testing.T) {
	var l lrp
	key := [16]byte{0xde, 0xad, 0xbe, 0xef}
	l.init(&key, 1)
	c := newLRPCMAC(&l)
	f := func(x [16]byte) [16]byte { return l.evalBytes(0, x[:], true) }
	lb := f([16]byte{})
	k1 := dbl(lb)
	k2 := dbl(k1)
	if c.k1 != k1 || c.k2 != k2 {
		t.Fatalf("subkeys = %X %X, want %X %X", c.k1, c.k2, k1, k2)
	}
	msg := make([]byte, 64)
	for i := range msg {
		msg[i] = byte(i*29 + 3)
	}
	for n := 0; n <= len(msg); n++ {
		m := bytes.Clone(msg[:n])
		sub := k1
		if n == 0 || n%16 != 0 {
			m = append(m, 0x80)
			m = append(m, make([]byte, (16-len(m)%16)%16)...)
			sub = k2
		}
		var x [16]byte
		for i := 0; i < len(m); i += 16 {
			for j := 0; j < 16; j++ {
				x[j] ^= m[i+j]
				if i == len(m)-16 {
					x[j] ^= sub[j]
				}
			}
			x = f(x)
		}
		if got := c.sum(msg[:n]); got != x {
			t.Errorf("len %d: sum = %X, want %X", n, got, x)
		}
	}
}

// TestLRPSDMWalkthrough runs the LRP SDM chain of sun-vectors.json "sdm-backend-lrp-walkthrough-x-separator".
func TestLRPSDMWalkthrough(t *testing.T) {
	var zero [16]byte
	picc := lrpHex(t, "picc_data", "AAE1508939ECF6FF26BCE407959AB1A5EC022819A35CD293")

	var meta lrp
	meta.init(&zero, 1)
	ctr := bytes.Clone(picc[:8])
	plain := make([]byte, 16)
	meta.lricbDecrypt(0, ctr, plain, picc[8:])
	if want := "C7042E1D222A63806A000016E2CA89D1"; !strings.EqualFold(hex.EncodeToString(plain), want) {
		t.Fatalf("PICC plaintext = %X, want %s", plain, want)
	}

	var file lrp
	file.init(&zero, 1)
	fc := newLRPCMAC(&file)
	sv := append([]byte{0x00, 0x01, 0x00, 0x80}, plain[1:8]...) // UID
	sv = append(sv, plain[8:11]...)                             // SDMReadCtr, LSB first
	sv = append(sv, 0x1e, 0xe1)
	master := fc.sum(sv)
	if want := "99C2FD9C885C2CA3C9089C20057310C0"; !strings.EqualFold(hex.EncodeToString(master[:]), want) {
		t.Fatalf("session master key = %X, want %s", master, want)
	}

	var ses lrp
	ses.init(&master, 2)
	mc := newLRPCMAC(&ses)
	full := mc.sum([]byte("AAE1508939ECF6FF26BCE407959AB1A5EC022819A35CD293x"))
	var mac [8]byte
	for i := range mac {
		mac[i] = full[2*i+1]
	}
	if want := "5E3DB82C19E3865F"; !strings.EqualFold(hex.EncodeToString(mac[:]), want) {
		t.Errorf("SDMMAC = %X, want %s", mac, want)
	}
}
