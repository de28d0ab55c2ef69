package store

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/tagd-nfc/tagd"
	bolt "go.etcd.io/bbolt"
)

// Records are the JSON encodings of the tagd types. Every decoder fails
// with a clear error, never a panic, on bytes that are not such a record
// (checked by the Fuzz* tests).

// decode unmarshals a record of the given kind and checks that its id is
// set.
func decode[T any](kind string, data []byte, id func(*T) string) (*T, error) {
	v := new(T)
	if err := json.Unmarshal(data, v); err != nil {
		return nil, fmt.Errorf("decode %s record: %w", kind, err)
	}
	if id(v) == "" {
		return nil, fmt.Errorf("decode %s record: no id", kind)
	}
	return v, nil
}

// decodeAccount decodes an accounts record.
func decodeAccount(data []byte) (*tagd.Account, error) {
	return decode("account", data, func(a *tagd.Account) string { return a.AID })
}

// decodeFolder decodes a folders record.
func decodeFolder(data []byte) (*tagd.Folder, error) {
	return decode("folder", data, func(f *tagd.Folder) string { return f.ID })
}

// decodeGroup decodes a groups record.
func decodeGroup(data []byte) (*tagd.TagGroup, error) {
	return decode("group", data, func(g *tagd.TagGroup) string { return g.ID })
}

// decodeBatch decodes a batches record.
func decodeBatch(data []byte) (*tagd.Batch, error) {
	return decode("batch", data, func(b *tagd.Batch) string { return b.ID })
}

// decodeTag decodes a tags record.
func decodeTag(data []byte) (*tagd.Tag, error) {
	return decode("tag", data, func(t *tagd.Tag) string { return t.XUID })
}

// decodeScan decodes a scans record.
func decodeScan(data []byte) (*tagd.Scan, error) {
	s := new(tagd.Scan)
	if err := json.Unmarshal(data, s); err != nil {
		return nil, fmt.Errorf("decode scan record: %w", err)
	}
	if s.Seq == 0 {
		return nil, errors.New("decode scan record: no seq")
	}
	return s, nil
}

// encode marshals a record. The tagd types always marshal; an error here
// is a bug.
func encode(v any) ([]byte, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("encode %T: %w", v, err)
	}
	return b, nil
}

// put encodes v and stores it under key in the named bucket.
func put(tx *bolt.Tx, bucket, key string, v any) error {
	b, err := encode(v)
	if err != nil {
		return err
	}
	return bkt(tx, bucket).Put([]byte(key), b)
}

// get decodes the record key of the named bucket; it returns nil, nil when
// there is none.
func get[T any](tx *bolt.Tx, bucket, key string, dec func([]byte) (*T, error)) (*T, error) {
	data := bkt(tx, bucket).Get([]byte(key))
	if data == nil {
		return nil, nil
	}
	v, err := dec(data)
	if err != nil {
		return nil, fmt.Errorf("%s %q: %w", bucket, key, err)
	}
	return v, nil
}

// seqKey is the scans key of a sequence number.
func seqKey(seq uint64) []byte { return binary.BigEndian.AppendUint64(nil, seq) }

// decodeSeqKey decodes a scans key.
func decodeSeqKey(k []byte) (uint64, error) {
	if len(k) != 8 {
		return 0, fmt.Errorf("scan key of %d bytes, want 8", len(k))
	}
	return binary.BigEndian.Uint64(k), nil
}

// indexKey joins the two parts of an index key: AID and UID (idx_uid),
// UID and AID (idx_uid_any), AID and CUID (idx_cuid). The first part never
// holds a NUL byte.
func indexKey(a, b string) []byte {
	k := make([]byte, 0, len(a)+1+len(b))
	k = append(k, a...)
	k = append(k, 0)
	return append(k, b...)
}

// splitIndexKey splits an index key into its two parts.
func splitIndexKey(k []byte) (a, b string, err error) {
	i := bytes.IndexByte(k, 0)
	if i <= 0 || i == len(k)-1 {
		return "", "", errors.New("malformed index key")
	}
	return string(k[:i]), string(k[i+1:]), nil
}
