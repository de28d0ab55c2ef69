package main

import (
	"bytes"
	"testing"

	"github.com/tagd-nfc/tagd"
)

// TestVerifierFollowsGroupChanges identifies NXP AN12196's example tap
// (PICCData under the factory zero meta key, UID 04DE5F1EACC040) through
// one group ID whose keys and profile change without a new revision — a
// group deleted and created again under its ID starts at revision 1 —
// and checks that the verifier's cache never answers with what it built
// before.
func TestVerifierFollowsGroupChanges(t *testing.T) {
	const url = "https://t.example/?picc_data=EF963FF7828658A599F3041510671E88&cmac=94EED9EE65337086"
	const uid = "04DE5F1EACC040"
	zero := tagd.Keys{Meta: make(tagd.Secret, 16), File: make(tagd.Secret, 16)}
	other := tagd.Keys{Meta: bytes.Repeat(tagd.Secret{0x42}, 16), File: make(tagd.Secret, 16)}
	profile := func() *tagd.SUNProfile {
		return &tagd.SUNProfile{Mode: "aes", Params: tagd.SUNParams{PICC: "picc_data", MAC: "cmac"}, MACInput: "empty", FileKeySource: "static", TamperOffset: -1}
	}
	g := &tagd.TagGroup{ID: "g1", Rev: 1, Type: tagd.GroupAuthentication, Profile: profile()}
	v := newSUNVerifier()
	identify := func(keys tagd.Keys) string {
		got, code := v.Identify(g, keys, url)
		if code != "" {
			return string(code)
		}
		return got
	}
	if got := identify(zero); got != uid {
		t.Fatalf("factory keys: %q, want %s", got, uid)
	}
	// the same ID and revision with other keys: the PICCData no longer opens
	if got := identify(other); got == uid {
		t.Fatal("other meta key at the same revision: the cached factory-key profile answered")
	}
	if got := identify(zero); got != uid {
		t.Fatalf("factory keys again: %q, want %s", got, uid)
	}
	// the same ID, revision and keys with other parameter names: the URL
	// no longer carries the group's SUN parameters
	g.Profile = profile()
	g.Profile.Params.PICC = "e"
	if got := identify(zero); got == uid {
		t.Fatal("other parameter names at the same revision: the cached profile answered")
	}
	// and a verification with the right keys passes, with the wrong ones not
	g.Profile = profile()
	if r := v.Verify(g, zero, tagd.Keys{}, false, uid, url); !r.Pass || r.Counter != 61 {
		t.Fatalf("Verify with the factory keys: %+v", r)
	}
	if r := v.Verify(g, tagd.Keys{Meta: zero.Meta, File: other.Meta}, tagd.Keys{}, false, uid, url); r.Pass {
		t.Fatalf("Verify with another file key at the same revision passed: %+v", r)
	}
}
