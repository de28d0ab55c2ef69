package sun

import (
	"crypto/aes"
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/binary"
	"fmt"
	"strings"
)

// KDFError is an invalid input to a key derivation function. Field names
// the input (one of "master", "uid", "m", "key-no" or "scheme") so that a
// command line can name the flag; Reason never holds key bytes.
type KDFError struct {
	Field  string
	Reason string
}

// Error implements the error interface as "kdf: <field>: <reason>".
func (e *KDFError) Error() string {
	return "kdf: " + e.Field + ": " + e.Reason
}

// kdfErr returns a *KDFError. Callers must pass only lengths, counts and
// scheme names as arguments, never key bytes.
func kdfErr(field, format string, args ...any) *KDFError {
	return &KDFError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// kdfUIDLen is the length of an NTAG 424 DNA UID in bytes.
const kdfUIDLen = 7

// an10922MaxM is the longest diversification input M that AN10922 AES-128
// allows: 0x01‖M must fit in two AES blocks.
const an10922MaxM = 31

// checkUID reports a UID that is not 7 bytes.
func checkUID(uid []byte) error {
	switch {
	case len(uid) == 0:
		return kdfErr("uid", "UID is required (7 bytes, 14 hex characters)")
	case len(uid) != kdfUIDLen:
		return kdfErr("uid", "UID is %d bytes; NTAG 424 DNA UIDs are 7 bytes (14 hex characters)", len(uid))
	}
	return nil
}

// checkKeyNo reports a key number that does not fit the byte sdm-backend
// appends to its derivation inputs.
func checkKeyNo(keyNo int) error {
	if keyNo < 0 || keyNo > 255 {
		return kdfErr("key-no", "key number %d is out of range; NTAG 424 DNA keys are numbered 0 to 4", keyNo)
	}
	return nil
}

// checkAES128Master reports a master key that is not 16 bytes.
func checkAES128Master(master []byte, scheme string) error {
	if len(master) != 16 {
		return kdfErr("master", "%s needs a 16-byte master key (32 hex characters), got %d bytes", scheme, len(master))
	}
	return nil
}

// checkSDMMaster reports an sdm-backend master key shorter than 16 or
// longer than 32 bytes.
func checkSDMMaster(master []byte, scheme string) error {
	if len(master) < 16 || len(master) > 32 {
		return kdfErr("master", "%s needs a 16- to 32-byte master key (32 to 64 hex characters), got %d bytes", scheme, len(master))
	}
	return nil
}

// isDemoMaster reports whether master is the 16-byte all-zero key for which
// sdm-backend derives all-zero keys (demo mode). It runs in constant time.
func isDemoMaster(master []byte) bool {
	if len(master) != 16 {
		return false
	}
	var acc byte
	for _, b := range master {
		acc |= b
	}
	return acc == 0
}

// AN10922 diversifies an AES-128 master key per NXP AN10922 §2.2:
// K = AES-CMAC(master, 0x01‖M) where 0x01‖M, when shorter than 32 bytes, is
// padded with 80 00… to 32 bytes and the last block is masked with subkey
// K2. M is 1 to 31 bytes.
//
// The result equals plain AES-CMAC (RFC 4493) when 0x01‖M is 17 to 32 bytes
// long, and differs from it when 0x01‖M is 16 bytes or shorter: plain CMAC
// would use a single block (masked with K1 at exactly 16 bytes, padded to 16
// bytes below that), AN10922 always uses two.
func AN10922(master, m []byte) ([16]byte, error) {
	if err := checkAES128Master(master, "an10922"); err != nil {
		return [16]byte{}, err
	}
	if len(m) == 0 {
		return [16]byte{}, kdfErr("m", "diversification input M is empty; AN10922 needs 1 to 31 bytes")
	}
	if len(m) > an10922MaxM {
		return [16]byte{}, kdfErr("m", "diversification input M (UID‖AID‖SystemID) is %d bytes; AN10922 allows at most 31", len(m))
	}
	b, err := aes.NewCipher(master)
	if err != nil {
		return [16]byte{}, kdfErr("master", "cannot expand master key")
	}
	c := newCMACKey(b)

	var d [32]byte
	d[0] = 0x01
	n := 1 + copy(d[1:], m)
	last := &c.k1
	if n < len(d) {
		d[n] = 0x80
		last = &c.k2
	}
	var x [16]byte
	copy(x[:], d[:16])
	b.Encrypt(x[:], x[:])
	xorInto(&x, d[16:])
	xorInto(&x, last[:])
	b.Encrypt(x[:], x[:])
	return x, nil
}

// AN10922Input returns the diversification input M = UID‖AID‖SystemID used
// by AN10922 (AID is 3 bytes on NTAG 424 DNA, e.g. 3042F5 in ntag424-java).
func AN10922Input(uid, aid, systemID []byte) []byte {
	m := make([]byte, 0, len(uid)+len(aid)+len(systemID))
	m = append(m, uid...)
	m = append(m, aid...)
	return append(m, systemID...)
}

// sdm-backend "standard" derivation constants (libsdm/derive.py).
const (
	sdmPICCDataKey   = "PICCDataKey"
	sdmSlotMasterKey = "SlotMasterKey"
	sdmDivBaseKey    = "DivBaseKey"
)

// hmacSHA256 returns HMAC-SHA256(key, parts[0]‖parts[1]‖…).
func hmacSHA256(key []byte, parts ...[]byte) [32]byte {
	h := hmac.New(sha256.New, key)
	for _, p := range parts {
		h.Write(p)
	}
	var out [32]byte
	h.Sum(out[:0])
	return out
}

// SDMStandardMetaKey derives the shared (not UID-diversified) SDMMetaRead
// key of sdm-backend's "standard" scheme (libsdm/derive.py,
// derive_undiversified_key for key 1): HMAC-SHA256(master, "PICCDataKey")
// truncated to 16 bytes. The 16-byte all-zero master yields the all-zero
// key (sdm-backend demo mode).
func SDMStandardMetaKey(master []byte) ([16]byte, error) {
	var k [16]byte
	if err := checkSDMMaster(master, "sdm-standard"); err != nil {
		return k, err
	}
	if isDemoMaster(master) {
		return k, nil
	}
	h := hmacSHA256(master, []byte(sdmPICCDataKey))
	copy(k[:], h[:16])
	return k, nil
}

// SDMStandardTagKey derives the UID-diversified key keyNo of sdm-backend's
// "standard" scheme (libsdm/derive.py, derive_tag_key): AES-CMAC with key
// HMAC-SHA256(master, "SlotMasterKey"‖keyNo)[:16] over
// 0x01‖HMAC-SHA256(HMAC-SHA256(master, "DivBaseKey"), UID)[:16]. The 16-byte
// all-zero master yields the all-zero key (sdm-backend demo mode).
func SDMStandardTagKey(master, uid []byte, keyNo int) ([16]byte, error) {
	var k [16]byte
	if err := checkSDMMaster(master, "sdm-standard"); err != nil {
		return k, err
	}
	if err := checkUID(uid); err != nil {
		return k, err
	}
	if err := checkKeyNo(keyNo); err != nil {
		return k, err
	}
	if isDemoMaster(master) {
		return k, nil
	}
	slot := hmacSHA256(master, []byte(sdmSlotMasterKey), []byte{byte(keyNo)})
	divBase := hmacSHA256(master, []byte(sdmDivBaseKey))
	div := hmacSHA256(divBase[:], uid)

	var msg [17]byte
	msg[0] = 0x01
	copy(msg[1:], div[:16])
	b, err := aes.NewCipher(slot[:16])
	if err != nil {
		return k, kdfErr("master", "cannot expand slot key")
	}
	c := newCMACKey(b)
	return c.sum(msg[:]), nil
}

// sdmLegacyIterations is the PBKDF2 iteration count of sdm-backend's
// legacy scheme.
const sdmLegacyIterations = 5000

// SDMLegacyKey derives key keyNo of sdm-backend's "legacy" scheme
// (libsdm/legacy_derive.py, compatible with the NFC Developer App):
// PBKDF2-HMAC-SHA512(master, "key"‖UID‖keyNo, 5000 iterations, 16 bytes)
// for a tag key, or with salt "key_no_uid"‖keyNo when uid is empty (the
// undiversified key, e.g. the SDMMetaRead key 1). The 16-byte all-zero
// master yields the all-zero key (sdm-backend demo mode).
func SDMLegacyKey(master, uid []byte, keyNo int) ([16]byte, error) {
	var k [16]byte
	if err := checkSDMMaster(master, "sdm-legacy"); err != nil {
		return k, err
	}
	if len(uid) != 0 {
		if err := checkUID(uid); err != nil {
			return k, err
		}
	}
	if err := checkKeyNo(keyNo); err != nil {
		return k, err
	}
	if isDemoMaster(master) {
		return k, nil
	}
	salt := make([]byte, 0, len("key_no_uid")+1)
	if len(uid) == 0 {
		salt = append(salt, "key_no_uid"...)
	} else {
		salt = append(salt, "key"...)
		salt = append(salt, uid...)
	}
	salt = append(salt, byte(keyNo))
	dk, err := pbkdf2.Key(sha512.New, string(master), salt, sdmLegacyIterations, len(k))
	if err != nil {
		return k, kdfErr("master", "PBKDF2 failed (FIPS 140-only mode rejects this scheme)")
	}
	copy(k[:], dk)
	return k, nil
}

// BoltcardKeys are the keys of one Bolt Card under the deterministic scheme:
// the per-card CardKey, the privacy-preserving card ID and the application
// keys K0 to K4 (K1 decrypts PICCData, K2 is the SDMFileRead/MAC key).
type BoltcardKeys struct {
	CardKey, ID, K0, K1, K2, K3, K4 [16]byte
}

// Bolt Card deterministic derivation constants (docs/DETERMINISTIC.md).
var (
	boltcardCardKey = [4]byte{0x2d, 0x00, 0x3f, 0x75}
	boltcardK0      = [4]byte{0x2d, 0x00, 0x3f, 0x76}
	boltcardK1      = [4]byte{0x2d, 0x00, 0x3f, 0x77}
	boltcardK2      = [4]byte{0x2d, 0x00, 0x3f, 0x78}
	boltcardK3      = [4]byte{0x2d, 0x00, 0x3f, 0x79}
	boltcardK4      = [4]byte{0x2d, 0x00, 0x3f, 0x7a}
	boltcardID      = [4]byte{0x2d, 0x00, 0x3f, 0x7b}
)

// boltcardIssuer expands a Bolt Card issuer key into a CMAC key.
func boltcardIssuer(issuerKey []byte) (cmacKey, error) {
	if err := checkAES128Master(issuerKey, "boltcard"); err != nil {
		return cmacKey{}, err
	}
	b, err := aes.NewCipher(issuerKey)
	if err != nil {
		return cmacKey{}, kdfErr("master", "cannot expand issuer key")
	}
	return newCMACKey(b), nil
}

// Boltcard derives a Bolt Card's keys from the issuer key, the UID and the
// card's version (boltcard docs/DETERMINISTIC.md): CardKey =
// CMAC(IssuerKey, 2D003F75‖UID‖version as 4 bytes little-endian); K0, K2,
// K3, K4 = CMAC(CardKey, 2D003F76 / 2D003F78 / 2D003F79 / 2D003F7A);
// K1 = CMAC(IssuerKey, 2D003F77); ID = CMAC(IssuerKey, 2D003F7B‖UID).
func Boltcard(issuerKey, uid []byte, version uint32) (BoltcardKeys, error) {
	var k BoltcardKeys
	ik, err := boltcardIssuer(issuerKey)
	if err != nil {
		return k, err
	}
	if err := checkUID(uid); err != nil {
		return k, err
	}
	var msg [4 + kdfUIDLen + 4]byte
	copy(msg[:4], boltcardCardKey[:])
	copy(msg[4:], uid)
	binary.LittleEndian.PutUint32(msg[4+kdfUIDLen:], version)
	k.CardKey = ik.sum(msg[:])

	copy(msg[:4], boltcardID[:])
	k.ID = ik.sum(msg[:4+kdfUIDLen])
	k.K1 = ik.sum(boltcardK1[:])

	b, err := aes.NewCipher(k.CardKey[:])
	if err != nil {
		return BoltcardKeys{}, kdfErr("master", "cannot expand card key")
	}
	ck := newCMACKey(b)
	k.K0 = ck.sum(boltcardK0[:])
	k.K2 = ck.sum(boltcardK2[:])
	k.K3 = ck.sum(boltcardK3[:])
	k.K4 = ck.sum(boltcardK4[:])
	return k, nil
}

// KDF names a key-derivation scheme for the command line and profiles.
type KDF string

// The supported key-derivation schemes.
const (
	KDFAN10922     KDF = "an10922"      // NXP AN10922 AES-128, M = UID‖AID‖SystemID
	KDFSDMStandard KDF = "sdm-standard" // nfc-developer/sdm-backend libsdm/derive.py
	KDFSDMLegacy   KDF = "sdm-legacy"   // nfc-developer/sdm-backend libsdm/legacy_derive.py
	KDFBoltcard    KDF = "boltcard"     // boltcard docs/DETERMINISTIC.md
)

// ParseKDF returns the scheme named s, case-insensitively. Besides the
// constants' names it accepts the names used in the test-vector files:
// "an10922-aes128", "sdm-backend-standard" and "sdm-backend-legacy".
func ParseKDF(s string) (KDF, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case string(KDFAN10922), "an10922-aes128":
		return KDFAN10922, nil
	case string(KDFSDMStandard), "sdm-backend-standard":
		return KDFSDMStandard, nil
	case string(KDFSDMLegacy), "sdm-backend-legacy":
		return KDFSDMLegacy, nil
	case string(KDFBoltcard):
		return KDFBoltcard, nil
	case "":
		return "", kdfErr("scheme", "no scheme given; want an10922, sdm-standard, sdm-legacy or boltcard")
	}
	return "", kdfErr("scheme", "unknown scheme; want an10922, sdm-standard, sdm-legacy or boltcard")
}

// KDFParams are the inputs of a scheme other than the UID. Master is the
// master key (the issuer key for boltcard). AID and SystemID complete
// AN10922's M. KeyNo is the key slot for sdm-standard and sdm-legacy:
// FileKey derives that slot's per-tag key and sdm-legacy's MetaKey that
// slot's undiversified key (sdm-backend uses slot 2 for the file key and
// slot 1 for the meta key, so set KeyNo for each call). Version is the Bolt
// Card version.
type KDFParams struct {
	Master        []byte
	AID, SystemID []byte
	KeyNo         int
	Version       uint32
}

// FileKey derives the SDMFileRead key of the tag with the given UID:
// an10922 → AN10922(Master, UID‖AID‖SystemID); sdm-standard →
// SDMStandardTagKey(Master, uid, KeyNo); sdm-legacy → SDMLegacyKey(Master,
// uid, KeyNo); boltcard → K2 of Boltcard(Master, uid, Version).
func (k KDF) FileKey(p KDFParams, uid []byte) ([16]byte, error) {
	switch k {
	case KDFAN10922, KDFSDMStandard, KDFSDMLegacy, KDFBoltcard:
	default:
		return [16]byte{}, kdfErr("scheme", "unknown scheme; want an10922, sdm-standard, sdm-legacy or boltcard")
	}
	if err := checkUID(uid); err != nil {
		return [16]byte{}, err
	}
	switch k {
	case KDFAN10922:
		return AN10922(p.Master, AN10922Input(uid, p.AID, p.SystemID))
	case KDFSDMStandard:
		return SDMStandardTagKey(p.Master, uid, p.KeyNo)
	case KDFSDMLegacy:
		return SDMLegacyKey(p.Master, uid, p.KeyNo)
	default: // KDFBoltcard
		keys, err := Boltcard(p.Master, uid, p.Version)
		return keys.K2, err
	}
}

// MetaKey derives the SDMMetaRead key that decrypts PICCData, which is
// shared by all tags: sdm-standard → SDMStandardMetaKey(Master); sdm-legacy
// → the undiversified key KeyNo; boltcard → K1. For an10922 the meta key is
// not defined by the scheme and must be given: MetaKey then returns false.
func (k KDF) MetaKey(p KDFParams) ([16]byte, bool, error) {
	var key [16]byte
	var err error
	switch k {
	case KDFAN10922:
		return key, false, nil
	case KDFSDMStandard:
		key, err = SDMStandardMetaKey(p.Master)
	case KDFSDMLegacy:
		key, err = SDMLegacyKey(p.Master, nil, p.KeyNo)
	case KDFBoltcard:
		var ik cmacKey
		if ik, err = boltcardIssuer(p.Master); err == nil {
			key = ik.sum(boltcardK1[:])
		}
	default:
		return key, false, kdfErr("scheme", "unknown scheme; want an10922, sdm-standard, sdm-legacy or boltcard")
	}
	if err != nil {
		return [16]byte{}, false, err
	}
	return key, true, nil
}
