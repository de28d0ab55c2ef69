package sun

import (
	"bytes"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
)

// knownCode reports whether err is a *Error with a verdict code and a
// message, the only kind of error the parsers and the verifier may return.
func knownCode(t *testing.T, err error) {
	t.Helper()
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %v (%T) is not a *sun.Error", err, err)
	}
	switch e.Code {
	case CodeMACMismatch, CodePICCInvalid, CodeReplay, CodeBadParam, CodeModeNotAllowed:
	default:
		t.Fatalf("unknown code %q", e.Code)
	}
	if e.Message == "" {
		t.Fatalf("error without a message: %+v", e)
	}
}

// fuzzProfile is an auto-mode profile with the factory keys.
func fuzzProfile(t testing.TB) *Profile {
	p, err := NewProfile(ProfileConfig{Mode: ModeAuto, MetaKey: make([]byte, 16), FileKey: make([]byte, 16), TamperOffset: 0})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// FuzzParseURL feeds arbitrary URLs and parameter-name specs through the
// URL parser, every MAC-input candidate and the verifier: no panic, only
// specific errors, and a MAC input that is exactly the raw text before the
// MAC value.
func FuzzParseURL(f *testing.F) {
	for _, v := range loadSunVectors(f) {
		if v.URL != "" {
			f.Add(v.URL, "picc=e,mac=c", "auto")
			f.Add(v.URL, "picc=m,sep=x", "at:picc")
			f.Add(v.URL, "picc=/,sep=x", "from:any")
			f.Add(v.URL, "", "at:enc")
		}
	}
	f.Add("https://x/?e=00&e=11", "", "empty")
	f.Add("https://x/?uid=04DE5F1EACC040&ctr=00003D&cmac=94EED9EE65337086", "", "auto")
	f.Add("?e=", "bulk=e", "at:bulk")
	p := fuzzProfile(f)
	f.Fuzz(func(t *testing.T, raw, spec, mi string) {
		names, err := ParseParamNames(spec, DefaultParamNames())
		if err != nil {
			return
		}
		u, err := ParseURL(raw, names)
		if err != nil {
			knownCode(t, err)
			return
		}
		cands := u.MACInputCandidates()
		if in, err := ParseMACInput(mi); err == nil {
			cands = append(cands, in)
		}
		for _, c := range cands {
			m, err := u.Message(c)
			if err != nil {
				knownCode(t, err)
				continue
			}
			macStart := u.fields[fMAC].start
			if !strings.HasSuffix(raw[:macStart], m.MACInput) {
				t.Fatalf("MAC input %q is not the text before the MAC in %q", m.MACInput, raw)
			}
			if _, err := p.Verify(m); err != nil {
				knownCode(t, err)
			}
		}
	})
}

// FuzzDecodeHex compares the field decoder with encoding/hex.
func FuzzDecodeHex(f *testing.F) {
	for _, s := range []string{"", "00", "aB", "0g", "123", "EF963FF7828658A599F3041510671E88"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := DecodeHex("picc", s)
		want, werr := hex.DecodeString(s)
		if (err == nil) != (werr == nil) {
			t.Fatalf("DecodeHex(%q) err %v, encoding/hex err %v", s, err, werr)
		}
		if err != nil {
			knownCode(t, err)
			if !strings.Contains(err.Error(), "picc") {
				t.Fatalf("error %v does not name the field", err)
			}
			return
		}
		if !bytes.Equal(got, want) {
			t.Fatalf("DecodeHex(%q) = %X, want %X", s, got, want)
		}
	})
}

// FuzzDecodeBulk feeds arbitrary bulk values: a decoded value splits into
// PICCData, file data and MAC that add up to the input.
func FuzzDecodeBulk(f *testing.F) {
	for _, v := range loadSunVectors(f) {
		if v.E != "" {
			f.Add(v.E)
		}
	}
	f.Add("")
	f.Add(strings.Repeat("00", 24))
	f.Add(strings.Repeat("00", 32))
	p := fuzzProfile(f)
	f.Fuzz(func(t *testing.T, v string) {
		m, err := DecodeBulk(v)
		if err != nil {
			knownCode(t, err)
			return
		}
		if n := len(m.PICCData) + len(m.EncFileData) + len(m.MAC); 2*n != len(v) {
			t.Fatalf("parts of %d bytes from %d hex characters", n, len(v))
		}
		if len(m.PICCData) != 16 && len(m.PICCData) != 24 || len(m.MAC) != 8 || len(m.EncFileData)%16 != 0 {
			t.Fatalf("bad split: picc %d enc %d mac %d", len(m.PICCData), len(m.EncFileData), len(m.MAC))
		}
		if _, err := p.Verify(m); err != nil {
			knownCode(t, err)
		}
	})
}

// FuzzVerify feeds arbitrary components to the verifier.
func FuzzVerify(f *testing.F) {
	for _, v := range loadSunVectors(f) {
		if v.Kind == "sun" && v.PICCData != "" && v.CMAC != "" {
			in := ""
			if v.MACInput != nil {
				in = *v.MACInput
			}
			f.Add(mustHex(f, v.PICCData), []byte(nil), []byte(nil), mustHex(f, v.CMAC), in, uint32(0), false)
		}
	}
	f.Add([]byte(nil), make([]byte, 7), []byte(nil), make([]byte, 8), "", uint32(6), true)
	p := fuzzProfile(f)
	f.Fuzz(func(t *testing.T, picc, uid, enc, mac []byte, in string, ctr uint32, hasCtr bool) {
		m := &Message{PICCData: picc, UID: uid, EncFileData: enc, MAC: mac, MACInput: in, Counter: ctr, HasCounter: hasCtr}
		r, err := p.Verify(m)
		if err != nil {
			knownCode(t, err)
			return
		}
		if !r.HasUID && !r.HasCounter {
			t.Fatalf("valid message without UID or counter: %+v", r)
		}
	})
}

// FuzzParseSpecs checks that the parameter-name and MAC-input specs either
// parse to something that prints back the same, or fail.
func FuzzParseSpecs(f *testing.F) {
	f.Add("picc=e,mac=c", "at:e")
	f.Add("sep=x,picc=/", "from:any.domain")
	f.Add("=", "at:")
	f.Fuzz(func(t *testing.T, spec, mi string) {
		if _, err := ParseParamNames(spec, DefaultParamNames()); err != nil && err.Error() == "" {
			t.Fatal("empty error")
		}
		in, err := ParseMACInput(mi)
		if err != nil {
			return
		}
		back, err := ParseMACInput(in.String())
		if err != nil || back != in {
			t.Fatalf("%q -> %+v -> %q -> %+v, %v", mi, in, in.String(), back, err)
		}
	})
}
