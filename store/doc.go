// Package store keeps the appliance's data in one bbolt file (and a tap
// journal beside it while open): accounts,
// folders, tag groups, batches, tags, their key material, the scan log and
// the API keys. It is the only package that imports bbolt; *DB implements
// tagd.TapStore and the management operations that the HTTP API and the
// command line need.
//
// # Layout
//
// Every record is the JSON encoding of its tagd type, in a bucket of its
// own:
//
//	meta         "version" (big-endian uint64 schema version), "kek_check"
//	accounts     AID → tagd.Account
//	folders      ID → tagd.Folder
//	groups       ID → tagd.TagGroup
//	batches      ID → tagd.Batch
//	tags         XUID → tagd.Tag
//	idx_uid      AID "\x00" UID → XUID   (UID uppercase hex)
//	idx_uid_any  UID "\x00" AID → XUID   (FindTagByUID: a prefix scan)
//	idx_cuid     AID "\x00" CUID → XUID  (CUID case-sensitive)
//	keys         "group:ID" | "tag:XUID" → sealed tagd.Keys
//	scans        big-endian uint64 Seq → tagd.Scan
//	apikeys      ID → tagd.APIKey (the secret only as its SHA-256)
//
// Key material is sealed with AES-256-GCM under the key-encryption key
// (KEK) given to Open, with a random nonce and the record id as additional
// data, so that a ciphertext moved to another record does not open. The
// KEK itself is never stored; a sealed check value in the meta bucket lets
// Open refuse a KEK that does not belong to the database.
//
// # Durability
//
// Every write is fsynced before the method returns (unless Options.NoSync,
// which is for tests only). RecordTap and AppendScan, the hot path, go to
// the tap journal (journal.go), a preallocated file beside the database
// (path + ".journal"): a tap appends its record (the tag's counters after
// it, absolute, and its scan) and waits for one write and one fdatasync
// that every tap queued meanwhile shares. The journal is folded into the
// bbolt file in one transaction every 4,096 scans, before every other
// write and every read outside the check flow, and on Close (which leaves
// it empty, preallocated for the next Open); Open replays whatever a crash
// left in it. The check flow
// reads tags, views and counters from memory (live.go); any other write
// clears that.
//
// # Caveats
//
// One process at a time: bbolt locks the file, and Open gives up after
// Options.Timeout with a CodeConflict error. Callbacks given to UpdateTag
// and UpdateGroup run inside a write transaction and tagd.Tap.Render runs
// with the journal's lock held: they must not call the DB.
package store
