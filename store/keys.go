package store

import (
	"crypto/rand"
	"errors"
	"fmt"

	"github.com/tagd-nfc/tagd"
	bolt "go.etcd.io/bbolt"
)

// Sealed records are sealedVersion, a random nonce and the AES-GCM
// ciphertext with its tag; the record id is the additional data.
const (
	sealedVersion = 1
	nonceSize     = 12
	gcmTagSize    = 16
	// keysVersion starts the plaintext encoding of tagd.Keys: then each of
	// Meta, File and Master as one length byte and the key bytes.
	keysVersion = 1
)

// groupKeyID and tagKeyID name the key record of a group and of a tag, in
// the keys bucket and as the additional data of its ciphertext.
func groupKeyID(id string) string { return "group:" + id }
func tagKeyID(xuid string) string { return "tag:" + xuid }

// errKEK is the error for a key record that does not decrypt: the KEK is
// not the database's, or the record was altered or moved. It never holds
// key bytes.
func errKEK(id string) *tagd.Error {
	return tagd.Errorf(tagd.CodeInternal, "the key-encryption key does not match this database (record %s does not decrypt)", id)
}

// seal encrypts plain for the record id.
func (db *DB) seal(id string, plain []byte) ([]byte, error) {
	out := make([]byte, 1+nonceSize, 1+nonceSize+len(plain)+gcmTagSize)
	out[0] = sealedVersion
	if _, err := rand.Read(out[1 : 1+nonceSize]); err != nil {
		return nil, fmt.Errorf("seal %s: %w", id, err)
	}
	return db.aead.Seal(out, out[1:1+nonceSize], plain, []byte(id)), nil
}

// open decrypts the sealed record id. It fails with errKEK when the
// ciphertext does not authenticate under the KEK and id.
func (db *DB) open(id string, sealed []byte) ([]byte, error) {
	nonce, ct, err := decodeSealed(sealed)
	if err != nil {
		return nil, fmt.Errorf("key record %s: %w", id, err)
	}
	plain, err := db.aead.Open(nil, nonce, ct, []byte(id))
	if err != nil {
		return nil, errKEK(id)
	}
	return plain, nil
}

// decodeSealed splits a sealed record into nonce and ciphertext.
func decodeSealed(b []byte) (nonce, ct []byte, err error) {
	if len(b) < 1+nonceSize+gcmTagSize {
		return nil, nil, fmt.Errorf("sealed record of %d bytes is too short", len(b))
	}
	if b[0] != sealedVersion {
		return nil, nil, fmt.Errorf("sealed record version %d, want %d", b[0], sealedVersion)
	}
	return b[1 : 1+nonceSize], b[1+nonceSize:], nil
}

// encodeKeys encodes k for sealing. Keys are at most 255 bytes (validateKeys
// allows 32).
func encodeKeys(k tagd.Keys) []byte {
	b := make([]byte, 0, 4+len(k.Meta)+len(k.File)+len(k.Master))
	b = append(b, keysVersion)
	for _, s := range [][]byte{k.Meta, k.File, k.Master} {
		b = append(b, byte(len(s)))
		b = append(b, s...)
	}
	return b
}

// decodeKeys decodes the plaintext of a key record. The keys alias b.
// Errors never show key bytes.
func decodeKeys(b []byte) (tagd.Keys, error) {
	if len(b) == 0 || b[0] != keysVersion {
		return tagd.Keys{}, errors.New("decode keys: unknown encoding")
	}
	rest := b[1:]
	var out [3]tagd.Secret
	for i := range out {
		if len(rest) == 0 || int(rest[0]) > len(rest)-1 {
			return tagd.Keys{}, errors.New("decode keys: truncated")
		}
		n := int(rest[0])
		if n > 0 {
			out[i] = tagd.Secret(rest[1 : 1+n : 1+n])
		}
		rest = rest[1+n:]
	}
	if len(rest) != 0 {
		return tagd.Keys{}, fmt.Errorf("decode keys: %d trailing bytes", len(rest))
	}
	return tagd.Keys{Meta: out[0], File: out[1], Master: out[2]}, nil
}

// emptyKeys reports whether k holds no key at all.
func emptyKeys(k tagd.Keys) bool { return len(k.Meta) == 0 && len(k.File) == 0 && len(k.Master) == 0 }

// validateKeys checks key lengths: AES-128 meta and file keys, 16- or
// 32-byte master keys. The error names the field, never the bytes.
func validateKeys(k tagd.Keys) error {
	if n := len(k.Meta); n != 0 && n != 16 {
		return invalid("keys.meta", "the meta key must be 16 bytes, not %d", n)
	}
	if n := len(k.File); n != 0 && n != 16 {
		return invalid("keys.file", "the file key must be 16 bytes, not %d", n)
	}
	if n := len(k.Master); n != 0 && n != 16 && n != 32 {
		return invalid("keys.master", "the master key must be 16 or 32 bytes, not %d", n)
	}
	return nil
}

// putKeys seals k under id, or deletes the record when k is empty.
func (db *DB) putKeys(tx *bolt.Tx, id string, k tagd.Keys) error {
	b := bkt(tx, bucketKeys)
	if emptyKeys(k) {
		return b.Delete([]byte(id))
	}
	plain := encodeKeys(k)
	sealed, err := db.seal(id, plain)
	clear(plain)
	if err != nil {
		return err
	}
	return b.Put([]byte(id), sealed)
}

// getKeys opens the key record id; ok is false when there is none.
func (db *DB) getKeys(tx *bolt.Tx, id string) (k tagd.Keys, ok bool, err error) {
	sealed := bkt(tx, bucketKeys).Get([]byte(id))
	if sealed == nil {
		return tagd.Keys{}, false, nil
	}
	plain, err := db.open(id, sealed)
	if err != nil {
		return tagd.Keys{}, false, err
	}
	k, err = decodeKeys(plain)
	if err != nil {
		clear(plain)
		return tagd.Keys{}, false, fmt.Errorf("key record %s: %w", id, err)
	}
	return k, true, nil
}
