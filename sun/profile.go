package sun

import (
	"crypto/aes"
	"crypto/cipher"
	"sync"
)

// ProfileConfig describes how the SUN messages of a group of tags are
// verified: the allowed mode and the keys.
type ProfileConfig struct {
	// Mode is the allowed crypto mode. ModeAuto accepts AES and LRP and
	// tells them apart by the PICCData length (or, for a plain mirror, by
	// which MAC verifies).
	Mode Mode
	// MetaKey is the SDMMetaReadKey (16 bytes) that decrypts PICCData. It
	// may be empty for plain (UID and counter in clear) messages.
	MetaKey []byte
	// FileKey is the SDMFileReadKey (16 bytes) shared by all tags, if the
	// keys are not per tag.
	FileKey []byte
	// DeriveFileKey returns the SDMFileReadKey of a tag from its UID, for
	// per-tag keys (a KDF, or a lookup of imported keys). Used when FileKey
	// is empty. With neither, every check needs VerifyWithFileKey.
	DeriveFileKey func(uid []byte) ([16]byte, error)
	// TamperOffset is the offset of the TagTamper status (two ASCII
	// characters) in the decrypted file data; negative when the tag has
	// none.
	TamperOffset int
}

// Profile is a ProfileConfig with its static keys expanded once. It is
// safe for concurrent use.
type Profile struct {
	mode         Mode
	tamperOffset int
	derive       func(uid []byte) ([16]byte, error)

	hasMeta bool
	metaAES cipher.Block
	metaLRP lrp

	hasFile bool
	file    fileKeys

	scratch sync.Pool // of *scratch
}

// fileKeys is an SDMFileReadKey expanded for both modes.
type fileKeys struct {
	aes     cmacKey
	lrp     lrp
	lrpCMAC lrpCMAC
}

// scratch is the per-verification working memory. It lives on the heap (in
// a pool) so that block-cipher calls through interfaces do not allocate.
type scratch struct {
	x, sv, ses, iv [16]byte
	picc           [16]byte
	ctr            [6]byte
	enc            cmacKey
	lrpSes         lrp
}

// NewProfile checks the keys of c and expands them.
func NewProfile(c ProfileConfig) (*Profile, error) {
	p := &Profile{mode: c.Mode, tamperOffset: c.TamperOffset, derive: c.DeriveFileKey}
	p.scratch.New = func() any { return new(scratch) }
	if len(c.MetaKey) > 0 {
		if len(c.MetaKey) != 16 {
			e := errKeyLength(len(c.MetaKey))
			e.Field = "meta-key"
			return nil, e
		}
		b, _ := aes.NewCipher(c.MetaKey)
		p.hasMeta = true
		p.metaAES = b
		if c.Mode.allows(ModeLRP) {
			p.metaLRP.init((*[16]byte)(c.MetaKey), 1)
		}
	}
	if len(c.FileKey) > 0 {
		if len(c.FileKey) != 16 {
			e := errKeyLength(len(c.FileKey))
			e.Field = "file-key"
			return nil, e
		}
		p.hasFile = true
		p.file.init((*[16]byte)(c.FileKey), c.Mode)
	}
	return p, nil
}

// init expands a file key for the modes that m allows.
func (f *fileKeys) init(key *[16]byte, m Mode) {
	b, _ := aes.NewCipher(key[:])
	f.aes = newCMACKey(b)
	if m.allows(ModeLRP) {
		f.lrp.init(key, 1)
		f.lrpCMAC = newLRPCMAC(&f.lrp)
	}
}

// Mode returns the mode the profile allows.
func (p *Profile) Mode() Mode { return p.mode }
