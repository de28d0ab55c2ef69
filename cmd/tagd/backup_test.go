package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tagd-nfc/tagd"
)

// tapStore records n taps of the demo standard tag directly in the store.
func tapStore(t *testing.T, dir string, n int) {
	t.Helper()
	d, err := openData(dir)
	if err != nil {
		t.Fatal(err)
	}
	db, err := d.openStore(time.Now)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	for range n {
		if _, _, err := db.RecordTap(context.Background(), tagd.Tap{XUID: demoStdXUID, Scan: tagd.Scan{Source: "api", Response: "Found"}}); err != nil {
			t.Fatal(err)
		}
	}
}

// scanCount returns the number of scans in dir's database (through the
// service when it runs).
func scanCount(t *testing.T, dir string) int {
	t.Helper()
	out, errOut, code := runMain("scans", "--data", dir, "--last", "1000", "--json")
	if code != 0 {
		t.Fatalf("tagd scans: %d %s", code, errOut)
	}
	return strings.Count(out, `"seq"`)
}

// TestBackupRestoreCLI backs up and restores with the service stopped, and
// checks that restore refuses bad files leaving the database byte-identical.
func TestBackupRestoreCLI(t *testing.T) {
	dir := t.TempDir()
	prepareData(t, dir).Close()
	tapStore(t, dir, 3)
	file := filepath.Join(t.TempDir(), "b.db")
	out, errOut, code := runMain("backup", file, "--data", dir)
	if code != 0 || !strings.Contains(out, "from the database") {
		t.Fatalf("backup: %d %q %q", code, out, errOut)
	}
	tapStore(t, dir, 2)
	if n := scanCount(t, dir); n != 5 {
		t.Fatalf("%d scans before restore, want 5", n)
	}
	dbPath := filepath.Join(dir, dbFile)
	good, _ := os.ReadFile(file)

	other := t.TempDir()
	prepareData(t, other).Close()
	foreign := filepath.Join(t.TempDir(), "foreign.db")
	if _, e, c := runMain("backup", foreign, "--data", other); c != 0 {
		t.Fatal(e)
	}
	bad := map[string][]byte{"truncated": good[:len(good)*2/3], "random": bytes.Repeat([]byte("tagd"), 8192)}
	for name, data := range bad {
		p := filepath.Join(t.TempDir(), name)
		os.WriteFile(p, data, 0o600)
		bad[name] = []byte(p)
	}
	for name, want := range map[string]string{
		"truncated": "not a complete tagd database",
		"random":    "not a complete tagd database",
		"foreign":   "another key-encryption key",
		"missing":   "not a complete tagd database",
	} {
		src := string(bad[name])
		switch name {
		case "foreign":
			src = foreign
		case "missing":
			src = filepath.Join(t.TempDir(), "nope.db")
		}
		before, _ := os.ReadFile(dbPath)
		_, errOut, code := runMain("restore", src, "--data", dir)
		if code == 0 || !strings.Contains(errOut, want) {
			t.Errorf("restore %s: exit %d %q, want %q", name, code, errOut, want)
		}
		if after, _ := os.ReadFile(dbPath); !bytes.Equal(before, after) {
			t.Errorf("restore %s changed the database", name)
		}
		if _, err := os.Stat(dbPath + ".bak"); err == nil {
			t.Errorf("restore %s left a .bak", name)
		}
	}

	before, _ := os.ReadFile(dbPath)
	out, errOut, code = runMain("restore", file, "--data", dir)
	if code != 0 || !strings.Contains(out, "tagd.db.bak") {
		t.Fatalf("restore: %d %q %q", code, out, errOut)
	}
	if bak, _ := os.ReadFile(dbPath + ".bak"); !bytes.Equal(bak, before) {
		t.Error("tagd.db.bak is not the previous database")
	}
	if n := scanCount(t, dir); n != 3 {
		t.Errorf("%d scans after restore, want the 3 of the backup", n)
	}
}

// TestBackupWithServiceRunning backs up through the admin socket while the
// appliance runs and answers taps, restores while it runs (the service
// swaps its database in place and answers from the backup at once),
// refuses a broken backup while it runs without changing anything, and
// restores once it stopped; /metrics on the admin socket counts the taps.
func TestBackupWithServiceRunning(t *testing.T) {
	const an12196 = "/v1/t?picc_data=EF963FF7828658A599F3041510671E88&cmac=94EED9EE65337086"
	dir := t.TempDir()
	a := startAppliance(t, dir)
	for range 3 {
		a.get(t, "/v1/t?x="+demoStdXUID)
	}
	file := filepath.Join(t.TempDir(), "live.db")
	out, errOut, code := runMain("backup", file, "--data", dir)
	if code != 0 || !strings.Contains(out, "running service") {
		t.Fatalf("backup: %d %q %q", code, out, errOut)
	}
	a.get(t, "/v1/t?x="+demoStdXUID)

	resp, err := adminClient(filepath.Join(dir, sockFile)).Get("http://tagd/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `tagd_taps_total{reason="",verdict="none"} 4`) {
		t.Errorf("/metrics: %s\n%s", resp.Status, grepLines(string(body), "tagd_"))
	}
	if strings.Contains(string(body), demoStdXUID) {
		t.Error("/metrics shows an XUID")
	}

	// after the backup: AN12196's tap passes once, then it is a replay
	if got := a.get(t, an12196); got != `{"xuid":"an12196a","response":"Pass"}` {
		t.Fatalf("AN12196 tap: %s", got)
	}
	if got := a.get(t, an12196); got != `{"xuid":"an12196a","response":"Fail"}` {
		t.Fatalf("AN12196 replay: %s", got)
	}
	if n := scanCount(t, dir); n != 6 {
		t.Fatalf("%d scans before the restore, want 6", n)
	}

	// a broken backup is refused while the service runs; nothing changes
	broken := filepath.Join(t.TempDir(), "broken.db")
	whole, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(broken, whole[:len(whole)/2], 0o600); err != nil {
		t.Fatal(err)
	}
	dbPath := filepath.Join(dir, dbFile)
	_, errOut, code = runMain("restore", broken, "--data", dir)
	if code == 0 || !strings.Contains(errOut, "not a complete tagd database") {
		t.Fatalf("restore of a truncated backup while running: %d %q", code, errOut)
	}
	if _, err := os.Stat(dbPath + ".bak"); err == nil {
		t.Error("the refused restore left a .bak")
	}
	if n := scanCount(t, dir); n != 6 {
		t.Fatalf("%d scans after the refused restore, want 6", n)
	}

	// the backup, restored into the running service
	out, errOut, code = runMain("restore", file, "--data", dir)
	if code != 0 || !strings.Contains(out, "running service") {
		t.Fatalf("restore while running: %d %q %q", code, out, errOut)
	}
	if _, err := os.Stat(dbPath + ".bak"); err != nil {
		t.Errorf("the replaced database was not kept: %v", err)
	}
	if n := scanCount(t, dir); n != 3 {
		t.Fatalf("%d scans after the restore, want the 3 of the backup", n)
	}
	// the backup predates AN12196's tap: its counter is new again there
	if got := a.get(t, an12196); got != `{"xuid":"an12196a","response":"Pass"}` {
		t.Fatalf("AN12196 tap after the restore: %s", got)
	}

	a.stop()
	if n := scanCount(t, dir); n != 4 {
		t.Fatalf("%d scans, want 4", n)
	}
	out, errOut, code = runMain("restore", file, "--data", dir)
	if code != 0 || strings.Contains(out, "running service") {
		t.Fatalf("restore: %d %q %q", code, out, errOut)
	}
	if n := scanCount(t, dir); n != 3 {
		t.Errorf("%d scans after restore, want the 3 of the backup", n)
	}
}

// grepLines returns the lines of s that contain sub.
func grepLines(s, sub string) string {
	var out []string
	for _, l := range strings.Split(s, "\n") {
		if strings.Contains(l, sub) {
			out = append(out, l)
		}
	}
	return strings.Join(out, "\n")
}
