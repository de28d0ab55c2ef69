package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// FuzzVerifyArgs feeds arbitrary flag values (keys, components, counters,
// specs) to tagd verify in-process: the exit code is 0, 1 or 2; a usage
// error names a flag or the problem on stderr; a check prints one JSON
// object; no key value is ever echoed.
func FuzzVerifyArgs(f *testing.F) {
	f.Add("--meta-key", zeroKey, "--file-key", zeroKey, "--picc", "EF963FF7828658A599F3041510671E88", "--mac", "94EED9EE65337086")
	f.Add("--meta-key", "zz", "--file-key", zeroKey, "--uid", "04DE5F1EACC040", "--ctr", "00003D")
	f.Add("--kdf", "boltcard", "--master", zeroKey, "--bulk", "00", "--mac-input", "at:e")
	f.Add("--mode", "lrp", "--file-key", zeroKey, "--last-counter", "x", "--mac", "94EED9EE65337086")
	f.Fuzz(func(t *testing.T, f1, v1, f2, v2, f3, v3, f4, v4 string) {
		args := []string{"verify"}
		for _, kv := range [][2]string{{f1, v1}, {f2, v2}, {f3, v3}, {f4, v4}} {
			args = append(args, kv[0], kv[1])
		}
		out, errOut, code := runMain(args...)
		switch code {
		case exitOK, exitInvalid:
			var o verifyOutput
			if err := json.Unmarshal([]byte(out), &o); err != nil {
				t.Fatalf("exit %d with output %q: %v", code, out, err)
			}
			if o.Valid != (code == exitOK) || (!o.Valid && (o.Error == "" || o.Hint == "")) {
				t.Fatalf("exit %d with %+v", code, o)
			}
		case exitUsage:
			if strings.TrimSpace(errOut) == "" {
				t.Fatalf("usage error without a message for %q", args)
			}
		default:
			t.Fatalf("exit %d for %q", code, args)
		}
		for i, kv := range [][2]string{{f1, v1}, {f2, v2}, {f3, v3}, {f4, v4}} {
			isKey := kv[0] == "--meta-key" || kv[0] == "--file-key" || kv[0] == "--master"
			if isKey && len(kv[1]) >= 16 && strings.Contains(out+errOut, kv[1]) {
				t.Fatalf("key value %d echoed: %q %q", i, out, errOut)
			}
		}
	})
}
