package tagd

import "context"

// Lookup names the tag of a request: by XUID, or by account and CUID or
// UID.
type Lookup struct {
	XUID string
	AID  string
	CUID string
	UID  string // uppercase hex
}

// TagView is a tag with the batch, group, folder and account above it, as
// read in one consistent transaction.
type TagView struct {
	Tag     Tag
	Batch   Batch
	Group   TagGroup
	Folder  Folder
	Account Account
}

// ProfileRef is an authentication group's SUN profile with its keys, a
// candidate for identifying a tap that carries only encrypted PICCData.
type ProfileRef struct {
	Group TagGroup
	Keys  Keys
}

// Tap is a verified (or failed) tap to record atomically with the tag's
// counters and a scan-log entry.
type Tap struct {
	XUID string
	// Counter is the SUN counter of the tap, if HasCounter.
	Counter    uint32
	HasCounter bool
	// Authenticated says the SUN MAC verified. The tap is fresh only if its
	// Counter is strictly greater than the tag's last accepted counter; a
	// fresh authenticated tap stores Counter as the new last counter.
	Authenticated bool
	// Scan is the scan-log entry; the store sets Seq, XUID, AID and
	// ScanCount.
	Scan Scan
	// Render completes the scan from the tag's state after the tap (its
	// scan count already incremented) and whether the counter was a
	// replay. The store calls it while it holds the tap in order (once, in
	// the store this repository has; a store may call it again when it
	// retries): it must be quick and must not have side effects.
	Render func(t *Tag, replay bool) Scan
}

// TapStore is the storage the check flow needs. Every method returns
// errors with codes: CodeNotFound (with Error.Field naming what: "aid",
// "xuid", "cuid" or "uid"), CodeConflict, or CodeInternal.
type TapStore interface {
	// FindTag returns the tag named by l with everything above it.
	FindTag(ctx context.Context, l Lookup) (*TagView, error)
	// FindTagByUID returns the tag with the given UID in any account; it is
	// CodeConflict when several accounts hold that UID.
	FindTagByUID(ctx context.Context, uid string) (*TagView, error)
	// SUNProfiles returns the authentication groups that have a SUN profile,
	// with their (decrypted) keys.
	SUNProfiles(ctx context.Context) ([]ProfileRef, error)
	// GroupKeys returns the decrypted keys of a group.
	GroupKeys(ctx context.Context, groupID string) (Keys, error)
	// TagKeys returns the decrypted keys of a tag; ok is false when the tag
	// has none of its own.
	TagKeys(ctx context.Context, xuid string) (k Keys, ok bool, err error)
	// RecordTap atomically checks and stores the counter, increments the
	// tag's scan count and appends the rendered scan to the scan log. The
	// write is durable (fsynced) before it returns.
	RecordTap(ctx context.Context, t Tap) (Scan, *Tag, error)
	// AppendScan durably appends a scan that concerns no known tag (or an
	// inactive one) to the scan log and returns it with its Seq.
	AppendScan(ctx context.Context, s Scan) (Scan, error)
}
