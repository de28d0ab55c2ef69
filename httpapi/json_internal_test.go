package httpapi

import (
	"bytes"
	"encoding/json"
	"testing"

	"github.com/tagd-nfc/tagd"
)

var jsonStrings = []string{
	"", "Found", `say "hi"`, `back\slash`, "<script>&amp;</script>", "tab\tnl\ncr\rbs\bff\f",
	"\x00\x01\x1f\x7f", "é ü 日本 🎉", "\u2028\u2029", "bad \xff\xfe utf8 \xc3", "{tagname} ✓",
}

// TestAppendString checks that appendString writes what encoding/json
// writes.
func TestAppendString(t *testing.T) {
	for _, s := range jsonStrings {
		want, _ := json.Marshal(s)
		if got := appendString(nil, s); string(got) != string(want) {
			t.Errorf("appendString(%q) = %s, want %s", s, got, want)
		}
	}
}

// FuzzAppendString checks appendString against encoding/json.
func FuzzAppendString(f *testing.F) {
	for _, s := range jsonStrings {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, _ := json.Marshal(s)
		if got := appendString([]byte("prefix"), s); string(got) != "prefix"+string(want) {
			t.Fatalf("appendString(%q) = %s, want %s", s, got[6:], want)
		}
	})
}

// TestAppendResult_Valid checks that every reply is one JSON object whose
// keys, in order, are the expected ones.
func TestAppendResult_Valid(t *testing.T) {
	res := &tagd.Result{Kind: tagd.ByUID, XUID: "x\"1", UID: "04\n", Error: "e<", Extra: []tagd.Field{
		{Key: "k\u2028", Value: "v\xff"}, {Key: "j", Value: ` [ 1 , {"a" : null} ] `, JSON: true},
		{Key: "n", Value: `NaN`, JSON: true}, {Key: "uid", Value: "again"},
	}}
	b := appendResult(nil, res)
	dec := json.NewDecoder(bytes.NewReader(b))
	var keys []string
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		t.Fatalf("%s: not an object", b)
	}
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			t.Fatalf("%s: %v", b, err)
		}
		keys = append(keys, k.(string))
		var v any
		if err := dec.Decode(&v); err != nil {
			t.Fatalf("%s: %v", b, err)
		}
	}
	want := []string{"xuid", "uid", "error", "k\u2028", "j", "n"}
	if len(keys) != len(want) {
		t.Fatalf("keys %q, want %q (%s)", keys, want, b)
	}
	for i := range keys {
		if keys[i] != want[i] {
			t.Fatalf("keys %q, want %q (%s)", keys, want, b)
		}
	}
	if want := `{"xuid":"x\"1","uid":"04\n","error":"e\u003c","k\u2028":"v\ufffd","j":[1,{"a":null}],"n":"NaN"}`; string(b) != want {
		t.Fatalf("reply\n %s\nwant\n %s", b, want)
	}
}
