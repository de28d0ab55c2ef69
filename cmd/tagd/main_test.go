package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// runMain drives Main in-process as main() does.
func runMain(args ...string) (stdout, stderr string, code int) {
	var out, errb bytes.Buffer
	m := &Main{Stdout: &out, Stderr: &errb}
	err := m.ParseFlags(args)
	if err == nil {
		err = m.Run(context.Background())
	}
	if cerr := m.Close(); err == nil {
		err = cerr
	}
	if err != nil && err.Error() != "" {
		errb.WriteString(err.Error())
	}
	return out.String(), errb.String(), exitCode(err)
}

const (
	zeroKey   = "00000000000000000000000000000000"
	secretKey = "5ACE7E50AB65D5D51FD5BF5A16B8205B"
	an12196   = "https://ntag.nxp.com/424?e=EF963FF7828658A599F3041510671E88&c=94EED9EE65337086"
)

// TestUsageErrors checks that each usage error exits 2 and names the flag
// and what was wrong, without echoing any key.
func TestUsageErrors(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{}, "usage"},
		{[]string{"frobnicate"}, `unknown command "frobnicate"`},
		{[]string{"verify", "--meta-key", secretKey[:30], "--file-key", zeroKey, an12196}, "--meta-key: key is 15 bytes"},
		{[]string{"verify", "--meta-key", zeroKey, "--file-key", secretKey + "Z", an12196}, "--file-key: 33 hex characters"},
		{[]string{"verify", "--meta-key", zeroKey, "--file-key", "G" + secretKey[1:], an12196}, "--file-key: character 1"},
		{[]string{"verify", "--meta-key", zeroKey, an12196}, "--file-key: missing"},
		{[]string{"verify", "--meta-key", zeroKey, "--file-key", zeroKey}, "missing URL"},
		{[]string{"verify", "--meta-key", zeroKey, "--file-key", zeroKey, "a", "b"}, "give one URL"},
		{[]string{"verify", "--meta-key", zeroKey, "--file-key", zeroKey, "--mode", "des", an12196}, "--mode"},
		{[]string{"verify", "--meta-key", zeroKey, "--file-key", zeroKey, "--mac-input", "middle", an12196}, "--mac-input"},
		{[]string{"verify", "--meta-key", zeroKey, "--file-key", zeroKey, "--param", "picc", an12196}, "--param"},
		{[]string{"verify", "--meta-key", zeroKey, "--file-key", zeroKey, "--param", "foo=bar", an12196}, `unknown role "foo"`},
		{[]string{"verify", "--meta-key", zeroKey, "--file-key", zeroKey, "--picc", "00", an12196}, "not both"},
		{[]string{"verify", "--meta-key", zeroKey, "--file-key", zeroKey, "--picc", "00"}, "--mac: missing"},
		{[]string{"verify", "--meta-key", zeroKey, "--file-key", zeroKey, "--bulk", "00", "--mac", "00"}, "--bulk holds"},
		{[]string{"verify", "--meta-key", zeroKey, "--file-key", zeroKey, "--last-counter", "-1", an12196}, "--last-counter"},
		{[]string{"verify", "--meta-key", zeroKey, "--file-key", zeroKey, "--last-counter", "16777216", an12196}, "--last-counter"},
		{[]string{"verify", "--meta-key", zeroKey, "--kdf", "md5", "--master", zeroKey, an12196}, "--kdf"},
		{[]string{"verify", "--meta-key", zeroKey, "--kdf", "an10922", an12196}, "--master: missing"},
		{[]string{"verify", "--meta-key", zeroKey, "--file-key", zeroKey, "--master", secretKey, an12196}, "--master: only meaningful with --kdf"},
		{[]string{"keys", "derive", "--master", secretKey}, "--scheme: missing"},
		{[]string{"keys", "derive", "--scheme", "an10922", "--master", secretKey}, "--uid: missing"},
		{[]string{"keys", "derive", "--scheme", "sdm-standard", "--master", secretKey[:20]}, "--master"},
		{[]string{"keys", "derive", "--scheme", "sdm-standard", "--master", secretKey, "--key-no", "2"}, "--key-no"},
		{[]string{"keys", "derive", "--scheme", "boltcard", "--master", secretKey, "--uid", "0401"}, "--uid"},
		{[]string{"keys", "derive", "--scheme", "sdm-legacy", "--master", secretKey, "--version", "2"}, "--version"},
		{[]string{"keys"}, "usage: tagd keys derive"},
		{[]string{"version", "extra"}, "no arguments"},
	} {
		out, errOut, code := runMain(tc.args...)
		if code != exitUsage {
			t.Errorf("%q: exit %d, want 2 (stdout %q, stderr %q)", tc.args, code, out, errOut)
			continue
		}
		if !strings.Contains(errOut, tc.want) {
			t.Errorf("%q: stderr %q does not mention %q", tc.args, errOut, tc.want)
		}
		for _, secret := range []string{secretKey, secretKey[:30], secretKey[:20], strings.ToLower(secretKey)} {
			if strings.Contains(out+errOut, secret) {
				t.Errorf("%q: output shows a key: %q %q", tc.args, out, errOut)
			}
		}
	}
}

// TestVerifyHints checks that each failing step is named in the hint with
// its likely cause.
func TestVerifyHints(t *testing.T) {
	base := []string{"verify", "--meta-key", zeroKey, "--file-key", zeroKey, "--param", "picc=e,mac=c"}
	for _, tc := range []struct {
		name, url string
		extra     []string
		code      string
		hint      []string
	}{
		{"short placeholder", "https://x/?e=EF963FF7828658A599F3041510671E&c=94EED9EE65337086", nil, "bad_param",
			[]string{"picc", "15 bytes", "32 hex characters (AES) or 48 (LRP)"}},
		{"not hex", "https://x/?e=EF963FF7828658A599F3041510671EXX&c=94EED9EE65337086", nil, "bad_param",
			[]string{"picc", "not hex", "placeholder was not replaced"}},
		{"wrong meta key", an12196, []string{"--meta-key", secretKey}, "picc_invalid",
			[]string{"picc step", "meta key", "SDMMetaRead"}},
		{"mac mismatch shows the input", "https://x/?e=EF963FF7828658A599F3041510671E88&c=94EED9EE65337087", []string{"--mac-input", "at:e"}, "mac_mismatch",
			[]string{"mac step", `MAC input used: \"EF963FF7828658A599F3041510671E88&c=\"`, "SDMFileRead"}},
		{"auto lists what it tried", "https://x/?e=EF963FF7828658A599F3041510671E88&c=94EED9EE65337087", nil, "mac_mismatch",
			[]string{"auto tried empty, at:picc"}},
		{"missing mac", "https://x/?e=EF963FF7828658A599F3041510671E88", nil, "bad_param",
			[]string{"no MAC in the URL", "parameter names"}},
		{"duplicate parameter", an12196 + "&c=94EED9EE65337086", nil, "bad_param", []string{"more than once"}},
		{"lrp refused", an12196, []string{"--mode", "lrp"}, "mode_not_allowed", []string{"aes message", "only lrp"}},
	} {
		args := append(append(append([]string{}, base...), tc.extra...), tc.url)
		out, errOut, code := runMain(args...)
		if code != exitInvalid {
			t.Errorf("%s: exit %d, want 1 (%s %s)", tc.name, code, out, errOut)
			continue
		}
		if !strings.Contains(out, `"error":"`+tc.code+`"`) {
			t.Errorf("%s: output %s, want error %s", tc.name, out, tc.code)
		}
		for _, h := range tc.hint {
			if !strings.Contains(out, h) {
				t.Errorf("%s: output %s lacks %q", tc.name, out, h)
			}
		}
		if strings.Contains(out, secretKey) {
			t.Errorf("%s: output shows the key", tc.name)
		}
	}
}

// TestVersion prints the version.
func TestVersion(t *testing.T) {
	out, _, code := runMain("version")
	if code != 0 || !strings.HasPrefix(out, "tagd ") {
		t.Fatalf("version: %q exit %d", out, code)
	}
}

// TestIxkioNames checks that ixkio's parameter names are expressible: the
// sdm-backend plain-mirror vector (UID 041E3C8A2D6B80, counter 6, zero
// file key) rewritten as an ixkio tag URL x/n/e, whose UID comes from the
// tag record (--uid), verifies; the same URL without the UID does not.
func TestIxkioNames(t *testing.T) {
	const url = "https://shop.example/t?x=q8w3sbcz&n=000006&e=4B00064004B0B3D3"
	args := []string{"verify", "--file-key", zeroKey, "--mode", "aes", "--param", "ctr=n,mac=e", "--mac-input", "empty", url}
	out, errOut, code := runMain(append(args, "--uid", "041E3C8A2D6B80")...)
	if code != 0 || !strings.Contains(out, `"uid":"041E3C8A2D6B80","counter":6`) {
		t.Fatalf("with --uid: exit %d %s %s", code, out, errOut)
	}
	out, _, code = runMain(args...)
	if code != 1 || !strings.Contains(out, `"error":"mac_mismatch"`) {
		t.Fatalf("without --uid: exit %d %s", code, out)
	}
	out, _, code = runMain("verify", "--file-key", zeroKey, "--uid", "041E3C8A2D6B80", "https://x/?uid=041E3C8A2D6B80&ctr=000006&cmac=4B00064004B0B3D3")
	if code != 1 || !strings.Contains(out, "carry no UID") {
		t.Fatalf("--uid with a UID in the URL: exit %d %s", code, out)
	}
}
