package store_test

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/tagd-nfc/tagd"
)

// FuzzImportCSV feeds arbitrary files to the tags and keys imports: no
// panic; an error is a *tagd.Error naming a row and a column, never shows
// the key of the seeds, and leaves the store byte-identical.
func FuzzImportCSV(f *testing.F) {
	const key = "C0FFEE11C0FFEE11C0FFEE11C0FFEE11"
	f.Add("XUID,UID,CUID,TAGNAME,STATUS\nabcd1234,04A1B2C3D4E5F6,c1,Cup,Active\n")
	f.Add("XUID,UID,FILE_KEY,META_KEY\n" + authXUID + "," + authUID + "," + key + ",\n")
	f.Add("XUID,NFTCHAIN,NFTMETA\nabcd1234,polygon_main,\"{\"\"a\"\":1}\"\n")
	f.Add("XUID,UID\nabcd1234,04XYZ\n")
	f.Add("XUID,CUID\nabcd1234,\"x\n")
	f.Add("\xef\xbb\xbfXUID,ASSIGNED\nabcd1234,Assigned\nabcd1234,\n")
	f.Add("XUID,UID\n" + stdXUID + "," + authUID + "\n")
	db := openDB(f)
	fixture(f, db)
	ctx := context.Background()
	f.Fuzz(func(t *testing.T, in string) {
		for _, keys := range []bool{false, true} {
			before := backup(t, db)
			var err error
			if keys {
				_, err = db.ImportKeysCSV(ctx, strings.NewReader(in))
			} else {
				_, err = db.ImportTagsCSV(ctx, stdBatch, strings.NewReader(in))
			}
			if err == nil {
				continue
			}
			var e *tagd.Error
			if !errors.As(err, &e) || !strings.HasPrefix(e.Field, "row ") || !strings.Contains(e.Field, " column ") || !strings.HasPrefix(e.Message, "row ") {
				t.Fatalf("error %v (%T) does not name a row and a column", err, err)
			}
			if strings.Contains(strings.ToUpper(e.Message), key) {
				t.Fatalf("the error shows key material: %s", e.Message)
			}
			if !bytes.Equal(before, backup(t, db)) {
				t.Fatalf("a failed import changed the store: %v", err)
			}
		}
	})
}
