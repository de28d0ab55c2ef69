package sun

import (
	"bytes"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"
)

// sunVector is one entry of testdata/sun-vectors.json.
type sunVector struct {
	Name           string            `json:"name"`
	Kind           string            `json:"kind"`
	Mode           string            `json:"mode"`
	Mirror         string            `json:"mirror"`
	URL            string            `json:"url"`
	E              string            `json:"e"`
	MetaKey        string            `json:"meta_key"`
	FileKey        string            `json:"file_key"`
	KeyDerivation  map[string]any    `json:"key_derivation"`
	MetaKeyDerived string            `json:"meta_key_derived"`
	FileKeyDerived string            `json:"file_key_derived"`
	PICCData       string            `json:"picc_data"`
	UID            string            `json:"uid"`
	Ctr            string            `json:"ctr"`
	CtrLSB         string            `json:"ctr_lsb"`
	EncFileData    string            `json:"enc_file_data"`
	MACInput       *string           `json:"mac_input"`
	CMAC           string            `json:"cmac"`
	LastSeen       *uint32           `json:"last_seen_counter"`
	TamperOffset   *int              `json:"tamper_offset"`
	Scheme         string            `json:"scheme"`
	Input          map[string]any    `json:"input"`
	Expect         map[string]any    `json:"expect"`
	Intermediate   map[string]string `json:"intermediate"`
}

// loadSunVectors reads the SUN vector file shared with the CLI tests.
func loadSunVectors(t testing.TB) []sunVector {
	t.Helper()
	b, err := os.ReadFile("../testdata/sun-vectors.json")
	if err != nil {
		t.Fatal(err)
	}
	var v []sunVector
	if err := json.Unmarshal(b, &v); err != nil {
		t.Fatal(err)
	}
	if len(v) < 40 {
		t.Fatalf("only %d vectors", len(v))
	}
	return v
}

// mustHex decodes hex or fails the test.
func mustHex(t testing.TB, s string) []byte {
	t.Helper()
	b, err := hex.DecodeString(s)
	if err != nil {
		t.Fatalf("bad hex %q: %v", s, err)
	}
	return b
}

// vectorKeys returns the meta and file key configuration of a vector,
// deriving keys where the vector names a key derivation.
func vectorKeys(t *testing.T, v sunVector) ProfileConfig {
	t.Helper()
	mode, err := ParseMode(v.Mode)
	if err != nil {
		t.Fatal(err)
	}
	c := ProfileConfig{Mode: mode, TamperOffset: -1}
	if v.TamperOffset != nil {
		c.TamperOffset = *v.TamperOffset
	}
	if v.MetaKey != "" {
		c.MetaKey = mustHex(t, v.MetaKey)
	}
	if v.FileKey != "" {
		c.FileKey = mustHex(t, v.FileKey)
	}
	if v.KeyDerivation == nil {
		return c
	}
	kd := v.KeyDerivation
	scheme, err := ParseKDF(kd["scheme"].(string))
	if err != nil {
		t.Fatal(err)
	}
	p := KDFParams{Master: mustHex(t, kd["master_key"].(string))}
	if m, ok := kd["m"].(string); ok { // AN10922: M = UID(7) ‖ AID(3) ‖ system identifier
		mb := mustHex(t, m)
		p.AID, p.SystemID = mb[7:10], mb[10:]
	}
	if n, ok := kd["file_key_no"].(float64); ok {
		p.KeyNo = int(n)
	}
	if n, ok := kd["meta_key_no"].(float64); ok {
		mp := p
		mp.KeyNo = int(n)
		mk, ok, err := scheme.MetaKey(mp)
		if err != nil || !ok {
			t.Fatalf("meta key: %v %v", ok, err)
		}
		if got := fmt.Sprintf("%X", mk); got != v.MetaKeyDerived {
			t.Errorf("meta_key_derived = %s, want %s", got, v.MetaKeyDerived)
		}
		c.MetaKey = mk[:]
	}
	var derivedFor []byte
	c.DeriveFileKey = func(uid []byte) ([16]byte, error) {
		derivedFor = append([]byte(nil), uid...)
		k, err := scheme.FileKey(p, uid)
		if err == nil && v.FileKeyDerived != "" {
			if got := fmt.Sprintf("%X", k); got != v.FileKeyDerived {
				t.Errorf("file_key_derived = %s, want %s", got, v.FileKeyDerived)
			}
		}
		return k, err
	}
	t.Cleanup(func() {
		if derivedFor == nil && !t.Failed() {
			t.Errorf("the file key was never derived")
		}
	})
	return c
}

// vectorMessage builds the component-form message of a vector.
func vectorMessage(t *testing.T, v sunVector) *Message {
	t.Helper()
	if v.E != "" {
		m, err := DecodeBulk(v.E)
		if err != nil {
			t.Fatal(err)
		}
		if v.MACInput != nil && m.MACInput != *v.MACInput {
			t.Errorf("bulk MAC input = %q, want %q", m.MACInput, *v.MACInput)
		}
		return m
	}
	m := &Message{}
	if v.PICCData != "" {
		m.PICCData = mustHex(t, v.PICCData)
	}
	if v.UID != "" {
		m.UID = mustHex(t, v.UID)
	}
	if v.Ctr != "" {
		c, err := ParseCounter(v.Ctr)
		if err != nil {
			t.Fatal(err)
		}
		m.Counter, m.HasCounter = c, true
	}
	if v.EncFileData != "" {
		m.EncFileData = mustHex(t, v.EncFileData)
	}
	m.MAC = mustHex(t, v.CMAC)
	if v.MACInput != nil {
		m.MACInput = *v.MACInput
	}
	return m
}

// checkExpect compares a verification outcome with every field of expect.
func checkExpect(t *testing.T, expect map[string]any, r Result, err error) {
	t.Helper()
	for k, want := range expect {
		switch k {
		case "valid":
			if got := err == nil; got != want.(bool) {
				t.Errorf("valid = %v, want %v (err %v)", got, want, err)
			}
		case "error":
			if got := ErrorCodeOf(err); got != want.(string) {
				t.Errorf("error = %q, want %q (err %v)", got, want, err)
			}
		case "picc_data_tag":
			if got := fmt.Sprintf("%02X", r.PICCDataTag); !r.HasTag || got != want.(string) {
				t.Errorf("picc_data_tag = %s (set %v), want %s", got, r.HasTag, want)
			}
		case "uid":
			if got := r.UIDHex(); got != want.(string) {
				t.Errorf("uid = %s, want %s", got, want)
			}
		case "counter":
			if !r.HasCounter || float64(r.Counter) != want.(float64) {
				t.Errorf("counter = %d (set %v), want %v", r.Counter, r.HasCounter, want)
			}
		case "file_data":
			if got := fmt.Sprintf("%X", r.FileData); got != want.(string) {
				t.Errorf("file_data = %s, want %s", got, want)
			}
		case "file_data_ascii":
			if got := string(r.FileData); got != want.(string) {
				t.Errorf("file_data_ascii = %q, want %q", got, want)
			}
		case "tamper":
			if r.Tamper != want.(string) {
				t.Errorf("tamper = %q, want %q", r.Tamper, want)
			}
		default:
			t.Errorf("expect field %q not checked", k)
		}
	}
}

// TestSunVectors runs every SUN and session-key vector through the
// verifier, checking every expected field and the published intermediates.
func TestSunVectors(t *testing.T) {
	n := 0
	for _, v := range loadSunVectors(t) {
		switch v.Kind {
		case "sun":
			n++
			t.Run(v.Name, func(t *testing.T) { testSunVector(t, v) })
		case "session_keys":
			n++
			t.Run(v.Name, func(t *testing.T) { testSessionKeyVector(t, v) })
		case "key_derivation":
			// kdf_test.go
		default:
			t.Errorf("%s: unknown kind %q", v.Name, v.Kind)
		}
	}
	if n < 30 {
		t.Fatalf("ran only %d vectors", n)
	}
}

func testSunVector(t *testing.T, v sunVector) {
	p, err := NewProfile(vectorKeys(t, v))
	if err != nil {
		t.Fatal(err)
	}
	m := vectorMessage(t, v)
	if v.CMAC == "" { // decrypt-only vector: no MAC was published
		r, err := p.decryptUnverified(m)
		checkExpect(t, v.Expect, r, err)
		return
	}
	r, err := p.Verify(m)
	if err == nil && v.LastSeen != nil {
		err = CheckCounter(&r, *v.LastSeen)
	}
	checkExpect(t, v.Expect, r, err)
	checkIntermediates(t, v, p, r)
	if v.URL != "" {
		testSunVectorURL(t, v, p, m)
	}
}

// testSunVectorURL checks that the URL of a vector yields the same message
// (with the MAC input cut from the raw URL) through the parameter names
// and MAC input spec an operator would configure.
func testSunVectorURL(t *testing.T, v sunVector, p *Profile, want *Message) {
	names, mi := vectorURLConfig(t, v)
	u, err := ParseURL(v.URL, names)
	if err != nil {
		t.Fatal(err)
	}
	m, err := u.Message(mi)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(m.PICCData, want.PICCData) || !bytes.Equal(m.MAC, want.MAC) || !bytes.Equal(m.EncFileData, want.EncFileData) ||
		!bytes.Equal(m.UID, want.UID) || m.Counter != want.Counter || m.HasCounter != want.HasCounter || m.MACInput != want.MACInput {
		t.Fatalf("URL gave %+v, components %+v", m, want)
	}
	// auto finds the same MAC input among its candidates
	found := false
	for _, c := range u.MACInputCandidates() {
		if m2, err := u.Message(c); err == nil {
			if _, err := p.Verify(m2); err == nil {
				found = true
				break
			}
		}
	}
	if v.Expect["valid"] == true && !found {
		t.Errorf("no auto MAC-input candidate verifies")
	}
}

// vectorURLConfig returns the parameter names and MAC input that describe
// a vector's URL template, as an operator would write them.
func vectorURLConfig(t *testing.T, v sunVector) (ParamNames, MACInput) {
	names := DefaultParamNames()
	spec := ""
	switch {
	case strings.Contains(v.URL, "?e=") && strings.Contains(v.URL, "&c="):
		spec = "picc=e,mac=c"
	case strings.Contains(v.URL, "?p="):
		spec = "picc=p,mac=c"
	case strings.Contains(v.URL, "?m="):
		spec = "picc=m,sep=x"
	case !strings.Contains(v.URL, "?"):
		spec = "picc=/,sep=x"
	}
	names, err := ParseParamNames(spec, names)
	if err != nil {
		t.Fatal(err)
	}
	mi := MACInput{Kind: MACInputEmpty}
	if v.MACInput != nil && *v.MACInput != "" {
		in := *v.MACInput
		switch {
		case v.EncFileData != "" && strings.HasPrefix(in, v.EncFileData):
			mi = MACInput{Kind: MACInputAt, Arg: "enc"}
		case strings.HasPrefix(in, v.PICCData):
			mi = MACInput{Kind: MACInputAt, Arg: "picc"}
		default:
			mi = MACInput{Kind: MACInputFrom, Arg: in[:10]}
		}
	}
	return names, mi
}

// checkIntermediates recomputes the published intermediate values with the
// functions the verifier uses.
func checkIntermediates(t *testing.T, v sunVector, p *Profile, r Result) {
	for k, want := range v.Intermediate {
		var got []byte
		switch k {
		case "picc_plain":
			b := p.decryptPICCForTest(mustHex(t, v.PICCData))
			got = b[:]
		case "sv1", "sv2", "ses_mac_key", "ses_enc_key":
			sv1, sv2, enc, mac := aesSessionKeysForTest(t, &p.file.aes, &r)
			got = map[string][]byte{"sv1": sv1[:], "sv2": sv2[:], "ses_enc_key": enc[:], "ses_mac_key": mac[:]}[k]
		case "full_cmac":
			_, _, _, mac := aesSessionKeysForTest(t, &p.file.aes, &r)
			full, _ := CMAC(mac[:], []byte(*v.MACInput))
			got = full[:]
		case "cmac_subkey_L", "cmac_subkey_k1", "cmac_subkey_k2":
			_, _, _, mac := aesSessionKeysForTest(t, &p.file.aes, &r)
			var L [16]byte
			c := new(cmacKey)
			c.init(mustAES(t, mac[:]), &L)
			got = map[string][]byte{"cmac_subkey_L": L[:], "cmac_subkey_k1": c.k1[:], "cmac_subkey_k2": c.k2[:]}[k]
		case "ive":
			_, _, enc, _ := aesSessionKeysForTest(t, &p.file.aes, &r)
			var iv [16]byte
			aesFileIV(&enc, &iv, r.Counter)
			got = iv[:]
		case "ses_master_key":
			var sv [16]byte
			lrpSessionVector(&sv, &r)
			m := p.file.lrpCMAC.sum(sv[:])
			got = m[:]
		default:
			t.Errorf("intermediate %q not checked", k)
			continue
		}
		if g := fmt.Sprintf("%X", got); g != want {
			t.Errorf("intermediate %s = %s, want %s", k, g, want)
		}
	}
}

// testSessionKeyVector checks SV1/SV2 and the AES session keys.
func testSessionKeyVector(t *testing.T, v sunVector) {
	fk := newCMACKey(mustAES(t, mustHex(t, v.FileKey)))
	ctr := mustHex(t, v.CtrLSB)
	r := Result{HasUID: true, HasCounter: true, Counter: uint32(ctr[0]) | uint32(ctr[1])<<8 | uint32(ctr[2])<<16}
	copy(r.UID[:], mustHex(t, v.UID))
	sv1, sv2, enc, mac := aesSessionKeysForTest(t, &fk, &r)
	got := map[string][16]byte{"sv1": sv1, "sv2": sv2, "ses_enc_key": enc, "ses_mac_key": mac}
	for k, want := range v.Expect {
		g, ok := got[k]
		if !ok {
			t.Errorf("expect field %q not checked", k)
			continue
		}
		if fmt.Sprintf("%X", g) != want.(string) {
			t.Errorf("%s = %X, want %s", k, g, want)
		}
	}
}

// TestCounterParse checks the MSB-first plain counter.
func TestCounterParse(t *testing.T) {
	for in, want := range map[string]uint32{"000006": 6, "00001C": 28, "010203": 0x010203, "FFFFFF": 0xFFFFFF, "0000ff": 255} {
		got, err := ParseCounter(in)
		if err != nil || got != want {
			t.Errorf("ParseCounter(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "00006", "0000006", "00000G"} {
		if _, err := ParseCounter(in); ErrorCodeOf(err) != CodeBadParam {
			t.Errorf("ParseCounter(%q) error %v, want bad_param", in, err)
		}
	}
}

// TestPerTagFileKey checks VerifyWithFileKey and Identify on every valid
// encrypted or plain vector with static keys: a profile holding only the
// meta key identifies the tag without its file key and verifies with it;
// another tag's key fails.
func TestPerTagFileKey(t *testing.T) {
	n := 0
	for _, v := range loadSunVectors(t) {
		if v.Kind != "sun" || v.Expect["valid"] != true || v.FileKey == "" || v.E != "" || v.LastSeen != nil {
			continue
		}
		n++
		t.Run(v.Name, func(t *testing.T) {
			c := vectorKeys(t, v)
			file := c.FileKey
			c.FileKey = nil
			p, err := NewProfile(c)
			if err != nil {
				t.Fatal(err)
			}
			m := vectorMessage(t, v)
			id, err := p.Identify(m)
			if err != nil || id.UIDHex() != v.Expect["uid"] {
				t.Fatalf("Identify: %s, %v; want uid %v", id.UIDHex(), err, v.Expect["uid"])
			}
			if _, err := p.Verify(m); ErrorCodeOf(err) != CodeBadParam {
				t.Errorf("Verify without any file key: %v, want bad_param", err)
			}
			r, err := p.VerifyWithFileKey(m, file)
			checkExpect(t, v.Expect, r, err)
			other := append([]byte(nil), file...)
			other[15] ^= 1
			if _, err := p.VerifyWithFileKey(m, other); ErrorCodeOf(err) != CodeMACMismatch {
				t.Errorf("another tag's key: %v, want mac_mismatch", err)
			}
		})
	}
	if n < 15 {
		t.Fatalf("only %d vectors", n)
	}
}
