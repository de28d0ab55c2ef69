package sun

import (
	"crypto/aes"
	"testing"
)

// Baselines measured in the same run as the verifier, so that the figures
// can be compared on a shared, noisy machine.

// BenchmarkBaselineAESBlock is one AES-128 block encryption with an
// expanded key.
func BenchmarkBaselineAESBlock(b *testing.B) {
	c, _ := aes.NewCipher(make([]byte, 16))
	x := make([]byte, 16)
	b.ReportAllocs()
	for b.Loop() {
		c.Encrypt(x, x)
	}
}

// BenchmarkBaselineAESNewCipher is one AES-128 key expansion.
func BenchmarkBaselineAESNewCipher(b *testing.B) {
	k := make([]byte, 16)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := aes.NewCipher(k); err != nil {
			b.Fatal(err)
		}
	}
}

// benchVector returns the profile config and message of a named vector.
func benchVector(b *testing.B, name string) (ProfileConfig, *Message) {
	for _, v := range loadSunVectors(b) {
		if v.Name == name {
			c := ProfileConfig{TamperOffset: -1}
			c.Mode, _ = ParseMode(v.Mode)
			c.MetaKey, c.FileKey = mustHex(b, v.MetaKey), mustHex(b, v.FileKey)
			m := &Message{PICCData: mustHex(b, v.PICCData), MAC: mustHex(b, v.CMAC), MACInput: *v.MACInput}
			if v.EncFileData != "" {
				m.EncFileData = mustHex(b, v.EncFileData)
			}
			return c, m
		}
	}
	b.Fatalf("no vector %s", name)
	return ProfileConfig{}, nil
}

// benchVerify measures Verify with keys expanded once (warm) or a new
// profile per tap (cold).
func benchVerify(b *testing.B, name string, cold bool) {
	c, m := benchVector(b, name)
	p, err := NewProfile(c)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if cold {
			p, _ = NewProfile(c)
		}
		if _, err := p.Verify(m); err != nil {
			b.Fatal(err)
		}
	}
}

// AN12196 Table 5: encrypted PICCData, empty MAC input.
func BenchmarkVerifyAESWarm(b *testing.B) {
	benchVerify(b, "an12196-4.4.4.2.1-enc-picc-empty-macinput", false)
}
func BenchmarkVerifyAESCold(b *testing.B) {
	benchVerify(b, "an12196-4.4.4.2.1-enc-picc-empty-macinput", true)
}

// AN12196 Table 6: PICCData, 16 bytes of file data, MAC over the file data.
func BenchmarkVerifyAESEncFileWarm(b *testing.B) {
	benchVerify(b, "an12196-4.4.4.2.2-enc-picc-enc-file", false)
}

// sdm-backend LRP: PICCData only, empty MAC input.
func BenchmarkVerifyLRPWarm(b *testing.B) { benchVerify(b, "sdm-backend-lrp-picc-only", false) }
func BenchmarkVerifyLRPCold(b *testing.B) { benchVerify(b, "sdm-backend-lrp-picc-only", true) }

// sdm-backend LRP: PICCData, file data and a MAC over the file data.
func BenchmarkVerifyLRPEncFileWarm(b *testing.B) { benchVerify(b, "sdm-backend-lrp-enc-file", false) }

// BenchmarkVerifyURLAES is a whole URL: locate, decode, cut the MAC input,
// verify.
func BenchmarkVerifyURLAES(b *testing.B) {
	c, _ := benchVector(b, "an12196-4.4.4.2.1-enc-picc-empty-macinput")
	p, _ := NewProfile(c)
	names, _ := ParseParamNames("picc=e,mac=c", DefaultParamNames())
	const raw = "https://ntag.nxp.com/424?e=EF963FF7828658A599F3041510671E88&c=94EED9EE65337086"
	b.ReportAllocs()
	for b.Loop() {
		u, err := ParseURL(raw, names)
		if err != nil {
			b.Fatal(err)
		}
		m, err := u.Message(MACInput{Kind: MACInputEmpty})
		if err != nil {
			b.Fatal(err)
		}
		if _, err := p.Verify(m); err != nil {
			b.Fatal(err)
		}
	}
}
