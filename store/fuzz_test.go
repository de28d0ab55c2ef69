package store

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tagd-nfc/tagd"
)

// Every decoder of stored bytes has a fuzz target: no panic, an error with
// a message on garbage, and what decodes re-encodes to bytes that decode
// to the same encoding.

// fuzzRecord is the body of the JSON record fuzz targets.
func fuzzRecord[T any](f *testing.F, dec func([]byte) (*T, error), seeds ...any) {
	for _, s := range seeds {
		b, err := encode(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
		f.Add(b[:len(b)/2])
	}
	f.Add([]byte("null"))
	f.Add([]byte("{}"))
	f.Add([]byte(`{"xuid":1}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := dec(data)
		if err != nil {
			if v != nil || err.Error() == "" || !strings.HasPrefix(err.Error(), "decode ") {
				t.Fatalf("decode error %v with value %v", err, v)
			}
			return
		}
		enc, err := encode(v)
		if err != nil {
			t.Fatalf("a decoded record does not encode: %v", err)
		}
		v2, err := dec(enc)
		if err != nil {
			t.Fatalf("a re-encoded record does not decode: %v\n%s", err, enc)
		}
		enc2, _ := encode(v2)
		if !bytes.Equal(enc, enc2) {
			t.Fatalf("encoding is not stable:\n%s\n%s", enc, enc2)
		}
	})
}

// Sample records, as the store writes them.
func sampleTime() time.Time { return time.Date(2026, 11, 25, 9, 30, 0, 123456789, time.UTC) }

func sampleRuleset() *tagd.Ruleset {
	return &tagd.Ruleset{Default: "Fail", Groups: []tagd.RuleGroup{
		{Response: "Pass {scount}", Rules: []tagd.Rule{{Type: tagd.RuleTagAuth, Op: "pass"}, {Type: tagd.RuleScanCount, Op: "lt", Value: "10"}}},
		{Response: "Tampered", Rules: []tagd.Rule{{Type: tagd.RuleTamper, Op: "eq", Value: "open"}}},
	}}
}

// FuzzDecodeAccount fuzzes the accounts record decoder.
func FuzzDecodeAccount(f *testing.F) {
	fuzzRecord(f, decodeAccount,
		&tagd.Account{AID: "demo", Name: "Demo", MgmtTokenHash: bytes.Repeat([]byte{1}, 32), APIDisabled: true, Created: sampleTime()},
		&tagd.Account{AID: "x", Created: sampleTime().In(time.FixedZone("CET", 3600))})
}

// FuzzDecodeFolder fuzzes the folders record decoder.
func FuzzDecodeFolder(f *testing.F) {
	fuzzRecord(f, decodeFolder,
		&tagd.Folder{ID: "f1", AID: "demo", Name: "Demo", TokenHash: bytes.Repeat([]byte{2}, 32), CORS: "*", Status: tagd.StatusActive,
			Fields: []tagd.ExtField{{Name: "colour", Type: "text", AddToResponse: true}, {Name: "made", Type: "date"}}})
}

// FuzzDecodeGroup fuzzes the groups record decoder.
func FuzzDecodeGroup(f *testing.F) {
	fuzzRecord(f, decodeGroup,
		&tagd.TagGroup{ID: "g1", FolderID: "f1", Name: "Authentication", Type: tagd.GroupAuthentication, Status: tagd.StatusActive,
			Ruleset: *sampleRuleset(), Extended: map[string]string{"colour": "red", "é": "ü"}, Rev: 7,
			Profile: &tagd.SUNProfile{Mode: "lrp", Params: tagd.SUNParams{PICC: "picc_data", Enc: "enc", MAC: "cmac", Bulk: "e", Sep: "x"},
				MACInput: "at:enc", FileKeySource: "an10922", KDFAID: "F12345", KDFSystemID: "00", KDFKeyNo: 2, KDFVersion: 1, TamperOffset: 32}},
		&tagd.TagGroup{ID: "g2", FolderID: "f1", Type: tagd.GroupStandard, Status: tagd.StatusInactive, Ruleset: tagd.Ruleset{Default: "Found"}, Rev: 1})
}

// FuzzDecodeBatch fuzzes the batches record decoder.
func FuzzDecodeBatch(f *testing.F) {
	fuzzRecord(f, decodeBatch, &tagd.Batch{ID: "b1", GroupID: "g1", Name: "B1", Status: tagd.StatusActive})
}

// FuzzDecodeTag fuzzes the tags record decoder.
func FuzzDecodeTag(f *testing.F) {
	fuzzRecord(f, decodeTag,
		&tagd.Tag{XUID: "q8w3sbcz", AID: "demo", BatchID: "B1", UID: "04AABBCC112233", CUID: "yourcuid", Name: "Mug", Status: tagd.TagActive,
			Assigned: true, AssignedAt: sampleTime(), CreatedAt: sampleTime(), NFT: tagd.NFT{Chain: "eth", Contract: "0xabc", Token: "1", Owner: "0xdef"},
			Ruleset: sampleRuleset(), Extended: map[string]string{"colour": "blue"}, ScanCount: 12, ChipCount: 11, LastCounter: 11, HasCounter: true},
		&tagd.Tag{XUID: "an12196aan12196a", AID: "demo", BatchID: "A1", Status: tagd.TagInactive, CreatedAt: sampleTime()})
}

// FuzzDecodeScan fuzzes the scans record decoder.
func FuzzDecodeScan(f *testing.F) {
	fuzzRecord(f, decodeScan,
		&tagd.Scan{Seq: 1, Time: sampleTime(), Source: "reader:ACS ACR1252", XUID: "q8w3sbcz", AID: "demo", UID: "04DE5F1EACC040",
			Counter: 61, HasCounter: true, Auth: "fail", Reason: tagd.CodeReplay, Tamper: "CC", Response: "Fail", ScanCount: 3},
		&tagd.Scan{Seq: 1 << 40, Time: sampleTime(), Source: "api", Error: "xuid_not_found"})
}

// FuzzDecodeAPIKey fuzzes the apikeys record decoder.
func FuzzDecodeAPIKey(f *testing.F) {
	fuzzRecord(f, decodeAPIKey,
		&tagd.APIKey{ID: "tagd_abcdefghijklmnop", AID: "demo", Name: "admin", Description: "first key", Scopes: []string{tagd.ScopeAdmin, tagd.ScopeSync},
			SecretHash: bytes.Repeat([]byte{4}, 32), Created: sampleTime(), LastUsed: sampleTime(), Expires: sampleTime().AddDate(1, 0, 0),
			Disabled: true, AllowIPs: []string{"10.0.0.0/8", "::1"}})
}

// FuzzDecodeKeys fuzzes the decoder of decrypted key records: a record
// decodes only if it is canonical, and never shows key bytes in an error.
func FuzzDecodeKeys(f *testing.F) {
	f.Add(encodeKeys(tagd.Keys{Meta: make(tagd.Secret, 16), File: bytes.Repeat([]byte{0xAB}, 16), Master: bytes.Repeat([]byte{0xCD}, 32)}))
	f.Add(encodeKeys(tagd.Keys{File: bytes.Repeat([]byte{0xEF}, 16)}))
	f.Add(encodeKeys(tagd.Keys{}))
	f.Add([]byte{})
	f.Add([]byte{1, 200, 1})
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := decodeKeys(data)
		if err != nil {
			if !strings.HasPrefix(err.Error(), "decode keys: ") || len(err.Error()) > 64 {
				t.Fatalf("error %q", err)
			}
			return
		}
		if got := encodeKeys(k); !bytes.Equal(got, data) {
			t.Fatalf("decodeKeys(%x) re-encodes as %x", data, got)
		}
	})
}

// FuzzOpenSealed fuzzes the sealed-record decoder and decryption: garbage
// never opens and never panics.
func FuzzOpenSealed(f *testing.F) {
	db, err := Open(filepath.Join(f.TempDir(), "fuzz.db"), Options{KEK: bytes.Repeat([]byte{9}, 32), NoSync: true})
	if err != nil {
		f.Fatal(err)
	}
	defer db.Close()
	plain := encodeKeys(tagd.Keys{File: bytes.Repeat([]byte{0x42}, 16)})
	sealed, err := db.seal("tag:q8w3sbcz", plain)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(sealed, "tag:q8w3sbcz")
	f.Add(sealed, "tag:an12196a")
	f.Add(sealed[:20], "tag:q8w3sbcz")
	f.Add([]byte{2}, "group:g1")
	f.Fuzz(func(t *testing.T, data []byte, id string) {
		got, err := db.open(id, data)
		if err == nil {
			if id != "tag:q8w3sbcz" || !bytes.Equal(got, plain) {
				t.Fatalf("%x opened under %q", data, id)
			}
			return
		}
		if strings.Contains(err.Error(), string(plain)) {
			t.Fatal("the error shows plaintext")
		}
	})
}

// FuzzDecodeVersion fuzzes the schema version decoder.
func FuzzDecodeVersion(f *testing.F) {
	f.Add(encodeVersion(1))
	f.Add([]byte(nil))
	f.Add([]byte{1, 2, 3})
	f.Fuzz(func(t *testing.T, data []byte) {
		v, err := decodeVersion(data)
		if err == nil && data != nil && !bytes.Equal(encodeVersion(v), data) {
			t.Fatalf("version %x decodes to %d", data, v)
		}
	})
}

// FuzzSplitIndexKey fuzzes the index key decoder: what splits joins back.
func FuzzSplitIndexKey(f *testing.F) {
	f.Add(indexKey("demo", "04AABBCC112233"))
	f.Add(indexKey("04AABBCC112233", "demo"))
	f.Add(indexKey("demo", "your\x00cuid"))
	f.Add([]byte("\x00x"))
	f.Fuzz(func(t *testing.T, k []byte) {
		a, b, err := splitIndexKey(k)
		if err != nil {
			return
		}
		if a == "" || b == "" || !bytes.Equal(indexKey(a, b), k) {
			t.Fatalf("%q splits into %q, %q", k, a, b)
		}
	})
}

// FuzzDecodeSeqKey fuzzes the scan key decoder.
func FuzzDecodeSeqKey(f *testing.F) {
	f.Add(seqKey(1))
	f.Add([]byte{0})
	f.Fuzz(func(t *testing.T, k []byte) {
		seq, err := decodeSeqKey(k)
		if err == nil && !bytes.Equal(seqKey(seq), k) {
			t.Fatalf("%x decodes to %d", k, seq)
		}
	})
}
