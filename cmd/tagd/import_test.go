package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportCLI imports tags and keys with `tagd import`, through the admin
// socket of a running appliance and then into the database directly, and
// checks that no key material shows up in output or logs.
func TestImportCLI(t *testing.T) {
	dir := t.TempDir()
	const key = "C0FFEE77C0FFEE77C0FFEE77C0FFEE77"
	tags := filepath.Join(dir, "tags.csv")
	if err := os.WriteFile(tags, []byte("XUID,UID,CUID,TAGNAME,FILE_KEY\nimpt0001,04A1B2C3D4E5F6,imp-1,Imported,"+key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	keys := filepath.Join(dir, "keys.csv")
	if err := os.WriteFile(keys, []byte("XUID,UID,FILE_KEY,META_KEY\nimpt0001,04A1B2C3D4E5F6,"+key+","+key+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	bad := filepath.Join(dir, "bad.csv")
	if err := os.WriteFile(bad, []byte("XUID,UID,FILE_KEY\nimpt0002,04A1B2C3D4E5F7,"+key[:30]+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(dir, "data")
	a := startAppliance(t, data)
	check := func(out, errOut string) {
		t.Helper()
		if strings.Contains(strings.ToUpper(out+errOut+a.logs.String()+a.stdout.String()), "C0FFEE") {
			t.Fatalf("key material in output or logs:\n%s\n%s\n%s", out, errOut, a.logs.String())
		}
	}
	out, errOut, code := runMain("import", "tags", tags, "--batch", "B1", "--data", data)
	check(out, errOut)
	if code != 0 || !strings.Contains(out, "imported 1 rows into batch B1") {
		t.Fatalf("import tags via the socket: %d %s %s", code, out, errOut)
	}
	if got := a.get(t, "/v1/t?c=imp-1&a=demo"); !strings.Contains(got, `"xuid":"impt0001"`) {
		t.Fatalf("lookup of the imported tag: %s", got)
	}
	out, errOut, code = runMain("import", "keys", keys, "--data", data)
	check(out, errOut)
	if code != 0 || !strings.Contains(out, "imported the keys of 1 tags") {
		t.Fatalf("import keys via the socket: %d %s %s", code, out, errOut)
	}
	out, errOut, code = runMain("import", "keys", bad, "--data", data)
	check(out, errOut)
	if code != 1 || !strings.Contains(errOut, "row 2, column FILE_KEY") {
		t.Fatalf("bad keys via the socket: %d %s %s", code, out, errOut)
	}
	a.stop()

	// without the service: the database directly
	out, errOut, code = runMain("import", "keys", bad, "--data", data)
	check(out, errOut)
	if code != 1 || !strings.Contains(errOut, "row 2, column FILE_KEY") {
		t.Fatalf("bad keys into the store: %d %s %s", code, out, errOut)
	}
	tags2 := filepath.Join(dir, "tags2.csv")
	if err := os.WriteFile(tags2, []byte("XUID,TAGNAME,STATUS\nimpt0001,Renamed,Inactive\nimpt0003,New,\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	out, errOut, code = runMain("import", "tags", tags2, "--batch", "B1", "--data", data)
	check(out, errOut)
	if code != 0 || !strings.Contains(out, "imported 2 rows") {
		t.Fatalf("import tags into the store: %d %s %s", code, out, errOut)
	}
	d, err := openData(data)
	if err != nil {
		t.Fatal(err)
	}
	db, err := d.openStore(nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var sb strings.Builder
	if _, err := db.ExportTagsCSV(t.Context(), "B1", &sb); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sb.String(), "impt0001,04A1B2C3D4E5F6,imp-1,Renamed,,Inactive,") || !strings.Contains(sb.String(), "impt0003,,,New,,Active,") {
		t.Fatalf("export:\n%s", sb.String())
	}
	k, ok, err := db.TagKeys(t.Context(), "impt0001")
	if err != nil || !ok || len(k.Meta) != 16 {
		t.Fatalf("keys: %v %v", ok, err)
	}
	for _, args := range [][]string{{"import"}, {"import", "tags", tags}, {"import", "keys", keys, "--batch", "B1"}, {"import", "nope", tags}} {
		if _, _, code := runMain(args...); code != 2 {
			t.Fatalf("%v: exit %d, want 2", args, code)
		}
	}
}
