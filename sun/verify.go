package sun

import (
	"crypto/subtle"
	"fmt"
)

// Message is one SUN message, decoded from a URL or given as components.
type Message struct {
	// PICCData is the encrypted PICCData: 16 bytes (AES) or 24 (LRP). Empty
	// for a plain mirror.
	PICCData []byte
	// UID is the plain-mirrored UID (7 bytes), if any.
	UID []byte
	// Counter is the plain-mirrored SDMReadCtr, if HasCounter.
	Counter    uint32
	HasCounter bool
	// EncFileData is the SDMENCFileData (a multiple of 16 bytes), if any.
	EncFileData []byte
	// MAC is the 8-byte SDMMAC.
	MAC []byte
	// MACInput is the exact text the tag MACed: the URL bytes from the MAC
	// input offset up to the start of the MAC value ("" for empty input).
	MACInput string
}

// Result is what a verification established. On failure it holds what was
// learnt before the failing step (for example the UID and counter when only
// the MAC is wrong).
type Result struct {
	Mode        Mode
	PICCDataTag byte
	HasTag      bool // PICCDataTag is set (encrypted PICCData)
	UID         [7]byte
	HasUID      bool
	Counter     uint32
	HasCounter  bool
	FileData    []byte // decrypted SDMENCFileData
	Tamper      string // tamper status, when the profile has a tamper offset
}

// UIDHex returns the UID as uppercase hex, or "" when there is none.
func (r *Result) UIDHex() string {
	if !r.HasUID {
		return ""
	}
	return fmt.Sprintf("%X", r.UID[:])
}

// piccTag validates a PICCDataTag: bits 5-4 are zero, the UID length is 7
// when bit 7 says the UID is mirrored and 0 otherwise, and at least one of
// UID and counter is present.
func piccTag(t byte) (uid, ctr bool, ok bool) {
	uid, ctr = t&0x80 != 0, t&0x40 != 0
	if t&0x30 != 0 || (!uid && !ctr) {
		return false, false, false
	}
	if uid && t&0x0F != 7 || !uid && t&0x0F != 0 {
		return false, false, false
	}
	return uid, ctr, true
}

// Verify checks a SUN message against the profile: it decrypts the
// PICCData (or takes the plain UID and counter), derives the session keys,
// checks the MAC in constant time and only then decrypts the file data and
// reads the tamper status. It does not check the counter against earlier
// taps; see CheckCounter.
func (p *Profile) Verify(m *Message) (Result, error) {
	return p.verify(m, nil)
}

// VerifyWithFileKey is Verify with the file key of one tag (a per-tag
// imported key), for a profile whose meta key is shared but whose file
// keys are not. The key is expanded for this call only.
func (p *Profile) VerifyWithFileKey(m *Message, fileKey []byte) (Result, error) {
	if len(fileKey) != 16 {
		e := errKeyLength(len(fileKey))
		e.Field = "file-key"
		return Result{}, e
	}
	f := new(fileKeys)
	f.init((*[16]byte)(fileKey), p.mode)
	return p.verify(m, f)
}

// Identify decrypts the PICCData of m with the meta key (or reads its
// plain UID and counter) without checking the MAC, to find out which tag
// sent it. Nothing it returns is authenticated.
func (p *Profile) Identify(m *Message) (Result, error) {
	var r Result
	if len(m.PICCData) == 0 {
		if len(m.UID) != 7 {
			return r, badParam("uid", "", "no PICCData and no 7-byte plain UID")
		}
		copy(r.UID[:], m.UID)
		r.HasUID = true
		r.Counter, r.HasCounter = m.Counter, m.HasCounter
		return r, nil
	}
	if len(m.PICCData) != 16 && len(m.PICCData) != 24 || !p.hasMeta {
		return r, badParam("picc", "", "PICCData of %d bytes", len(m.PICCData))
	}
	r.Mode = ModeAES
	if len(m.PICCData) == 24 {
		r.Mode = ModeLRP
	}
	if !p.mode.allows(r.Mode) {
		return r, &Error{Code: CodeModeNotAllowed, Step: StepPICC, Field: "picc", Message: "mode not allowed"}
	}
	s := p.scratch.Get().(*scratch)
	defer p.scratch.Put(s)
	p.decryptPICC(s, m.PICCData)
	hasUID, hasCtr, ok := piccTag(s.picc[0])
	if !ok {
		return r, &Error{Code: CodePICCInvalid, Step: StepPICC, Field: "picc", Message: "PICCData does not decrypt to a valid PICCDataTag"}
	}
	r.PICCDataTag, r.HasTag = s.picc[0], true
	i := 1
	if hasUID {
		copy(r.UID[:], s.picc[1:8])
		r.HasUID, i = true, 8
	}
	if hasCtr {
		r.Counter = uint32(s.picc[i]) | uint32(s.picc[i+1])<<8 | uint32(s.picc[i+2])<<16
		r.HasCounter = true
	}
	return r, nil
}

// verify is Verify with an optional per-call file key.
func (p *Profile) verify(m *Message, file *fileKeys) (Result, error) {
	var r Result
	if len(m.MAC) != 8 {
		return r, badParam("mac", "the SDMMAC placeholder must be 16 hex characters", "MAC is %d bytes, want 8", len(m.MAC))
	}
	if n := len(m.EncFileData); n%16 != 0 {
		return r, badParam("enc", "the SDMENCFileData placeholder must be a multiple of 32 hex characters", "encrypted file data is %d bytes, not a multiple of 16", n)
	}
	s := p.scratch.Get().(*scratch)
	defer p.scratch.Put(s)

	switch len(m.PICCData) {
	case 0:
		return p.verifyPlain(s, m, file)
	case 16:
		r.Mode = ModeAES
	case 24:
		r.Mode = ModeLRP
	default:
		return r, badParam("picc", "an encrypted PICCData placeholder is 32 hex characters (AES) or 48 (LRP)", "PICCData is %d bytes, want 16 (AES) or 24 (LRP)", len(m.PICCData))
	}
	if !p.mode.allows(r.Mode) {
		return r, &Error{Code: CodeModeNotAllowed, Step: StepPICC, Field: "picc", Message: fmt.Sprintf("%s message, profile allows only %s", r.Mode, p.mode),
			Hint: "the tag is configured for a different mode than the profile; a downgrade from LRP to AES is refused on purpose"}
	}
	if !p.hasMeta {
		return r, &Error{Code: CodeBadParam, Step: StepKey, Field: "meta-key", Message: "encrypted PICCData but no meta key", Hint: "give the SDMMetaReadKey (--meta-key or a KDF that defines one)"}
	}
	p.decryptPICC(s, m.PICCData)
	tag := s.picc[0]
	hasUID, hasCtr, ok := piccTag(tag)
	if !ok {
		p.dummyMAC(s, m)
		return r, &Error{Code: CodePICCInvalid, Step: StepPICC, Field: "picc", Message: "PICCData does not decrypt to a valid PICCDataTag under the meta key",
			Hint: "the meta key is not this tag's SDMMetaReadKey (check which key slot SDMMetaRead points to), or the PICCData value was altered"}
	}
	r.PICCDataTag, r.HasTag = tag, true
	i := 1
	if hasUID {
		copy(r.UID[:], s.picc[1:8])
		r.HasUID = true
		i = 8
	}
	if hasCtr {
		r.Counter = uint32(s.picc[i]) | uint32(s.picc[i+1])<<8 | uint32(s.picc[i+2])<<16
		r.HasCounter = true
	}
	return r, p.checkMAC(s, &r, m, file)
}

// verifyPlain verifies a message whose UID and counter are mirrored in
// clear. In auto mode the MAC decides between AES and LRP.
func (p *Profile) verifyPlain(s *scratch, m *Message, file *fileKeys) (Result, error) {
	var r Result
	if len(m.UID) != 0 && len(m.UID) != 7 {
		return r, badParam("uid", "a plain UID placeholder is 14 hex characters", "UID is %d bytes, want 7", len(m.UID))
	}
	if len(m.UID) == 0 && !m.HasCounter {
		return r, badParam("picc", "the URL must carry encrypted PICCData, or a plain UID and/or counter", "no PICCData, UID or counter")
	}
	if m.Counter > 0xFFFFFF {
		return r, badParam("ctr", "the counter placeholder is 6 hex characters", "counter %d exceeds 24 bits", m.Counter)
	}
	if len(m.UID) == 7 {
		copy(r.UID[:], m.UID)
		r.HasUID = true
	}
	r.Counter, r.HasCounter = m.Counter, m.HasCounter
	switch p.mode {
	case ModeAES, ModeLRP:
		r.Mode = p.mode
		return r, p.checkMAC(s, &r, m, file)
	}
	r.Mode = ModeAES
	err := p.checkMAC(s, &r, m, file)
	if ErrorCodeOf(err) != CodeMACMismatch {
		return r, err
	}
	lr := r
	lr.Mode = ModeLRP
	if p.checkMAC(s, &lr, m, file) == nil {
		return lr, nil
	}
	return r, err
}

// ErrorCodeOf returns the verdict code of an error from this package, or
// "" when err is nil or of another kind.
func ErrorCodeOf(err error) string {
	if e, ok := err.(*Error); ok {
		return e.Code
	}
	return ""
}

// fileKeysFor returns the expanded file key of the tag in r.
func (p *Profile) fileKeysFor(r *Result) (*fileKeys, error) {
	if p.hasFile {
		return &p.file, nil
	}
	if p.derive == nil {
		return nil, &Error{Code: CodeBadParam, Step: StepKey, Field: "file-key", Message: "the profile has no file key for this tag", Hint: "import the tag's key, or give the group a static file key or a key derivation"}
	}
	if !r.HasUID {
		return nil, &Error{Code: CodeBadParam, Step: StepKey, Field: "uid", Message: "the file key is derived from the UID, but the message carries no UID",
			Hint: "mirror the UID (PICCDataTag bit 7), or give a static file key"}
	}
	uid := new([7]byte) // the callback may keep it; r stays on the stack
	*uid = r.UID
	k, err := p.derive(uid[:])
	if err != nil {
		return nil, &Error{Code: CodeBadParam, Step: StepKey, Field: "file-key", Message: err.Error()}
	}
	f := new(fileKeys)
	f.init(&k, r.Mode)
	return f, nil
}

// decryptPICC decrypts PICCData (AES: one block under the meta key; LRP:
// PICCRand in clear, then LRICB under the meta key with PICCRand as the
// counter) into s.picc.
func (p *Profile) decryptPICC(s *scratch, picc []byte) {
	if len(picc) == 16 {
		copy(s.picc[:], picc)
		p.metaAES.Decrypt(s.picc[:], s.picc[:])
		return
	}
	copy(s.iv[:8], picc[:8])
	p.metaLRP.lricbDecrypt(0, s.iv[:8], s.picc[:], picc[8:24])
}

// aesSessionVector writes SV2 (prefix 3C C3, for the MAC key) or SV1
// (prefix C3 3C, for the ENC key): prefix ‖ 00 01 00 80 ‖ [UID] ‖
// [counter LSB first] ‖ zero padding to 16 bytes.
func aesSessionVector(sv *[16]byte, p0, p1 byte, r *Result) {
	*sv = [16]byte{p0, p1, 0x00, 0x01, 0x00, 0x80}
	sessionVector(sv[6:], r)
}

// lrpSessionVector writes the LRP session vector: 00 01 00 80 ‖ [UID] ‖
// [counter LSB first] ‖ zero padding ‖ 1E E1, 16 bytes in all.
func lrpSessionVector(sv *[16]byte, r *Result) {
	*sv = [16]byte{0x00, 0x01, 0x00, 0x80}
	sessionVector(sv[4:], r)
	sv[14], sv[15] = 0x1E, 0xE1
}

// aesFileIV computes the IV of SDMENCFileData: E(KSesSDMFileReadENC,
// counter LSB first ‖ 13 zero bytes).
func aesFileIV(encKey, iv *[16]byte, ctr uint32) {
	*iv = [16]byte{byte(ctr), byte(ctr >> 8), byte(ctr >> 16)}
	encryptBlock(encKey, iv, iv)
}

// sessionVector writes the UID and counter (LSB first) of r into sv and
// returns the number of bytes written.
func sessionVector(sv []byte, r *Result) int {
	n := 0
	if r.HasUID {
		n += copy(sv[n:], r.UID[:])
	}
	if r.HasCounter {
		sv[n], sv[n+1], sv[n+2] = byte(r.Counter), byte(r.Counter>>8), byte(r.Counter>>16)
		n += 3
	}
	return n
}

// checkMAC derives the session keys, checks the MAC and, when it matches,
// decrypts the file data.
func (p *Profile) checkMAC(s *scratch, r *Result, m *Message, f *fileKeys) error {
	if f == nil {
		var err error
		if f, err = p.fileKeysFor(r); err != nil {
			return err
		}
	}
	if r.Mode == ModeAES {
		aesSessionVector(&s.sv, 0x3C, 0xC3, r)
		cmacSum(&f.aes, &s.ses, s.sv[:])
		cmacOneShot(&s.ses, &s.x, m.MACInput)
	} else {
		lrpSessionVector(&s.sv, r)
		s.ses = f.lrpCMAC.sum(s.sv[:])
		nuk := 1
		if len(m.EncFileData) > 0 {
			nuk = 2
		}
		s.lrpSes.init(&s.ses, nuk)
		c := newLRPCMAC(&s.lrpSes)
		s.x = lrpCMACSum(&c, m.MACInput)
	}
	t := Truncate(s.x)
	if subtle.ConstantTimeCompare(t[:], m.MAC) != 1 {
		return &Error{Code: CodeMACMismatch, Step: StepMAC, Field: "mac", Message: "SDMMAC does not match",
			Hint: fmt.Sprintf("MAC input used: %q (%d bytes). If the tag MACs a different part of the URL, set the MAC input (empty, at:PARAM or from:TEXT) to match SDMMACInputOffset; otherwise the file key is not this tag's SDMFileReadKey (check the key slot SDMFileRead points to and the key derivation), or the URL was altered (a proxy that changes case breaks the MAC)", m.MACInput, len(m.MACInput))}
	}
	if len(m.EncFileData) > 0 {
		if !r.HasUID || !r.HasCounter {
			return &Error{Code: CodeBadParam, Step: StepFile, Field: "enc", Message: "encrypted file data needs both UID and counter mirrored"}
		}
		r.FileData = make([]byte, len(m.EncFileData))
		p.decryptFile(s, f, r, m.EncFileData)
		if p.tamperOffset >= 0 && p.tamperOffset+2 <= len(r.FileData) {
			r.Tamper = TamperStatus(r.FileData[p.tamperOffset], r.FileData[p.tamperOffset+1])
		}
	}
	return nil
}

// decryptFile decrypts SDMENCFileData into r.FileData.
func (p *Profile) decryptFile(s *scratch, f *fileKeys, r *Result, enc []byte) {
	if r.Mode == ModeAES {
		aesSessionVector(&s.sv, 0xC3, 0x3C, r)
		cmacSum(&f.aes, &s.ses, s.sv[:])
		aesFileIV(&s.ses, &s.iv, r.Counter)
		cbcDecryptOneShot(&s.ses, &s.iv, r.FileData, enc)
		return
	}
	s.ctr = [6]byte{byte(r.Counter), byte(r.Counter >> 8), byte(r.Counter >> 16)}
	s.lrpSes.lricbDecrypt(1, s.ctr[:], r.FileData, enc)
}

// dummyMAC spends about the work of a MAC check, so that a PICCData that
// does not decrypt takes as long as a MAC that does not match.
func (p *Profile) dummyMAC(s *scratch, m *Message) {
	if !p.hasFile {
		return
	}
	r := Result{Mode: ModeAES, HasUID: true, HasCounter: true}
	if len(m.PICCData) == 24 {
		r.Mode = ModeLRP
	}
	mm := *m
	mm.EncFileData = nil
	_ = p.checkMAC(s, &r, &mm, nil)
}

// CheckCounter returns a replay error unless the counter of r is strictly
// greater than last, the last accepted counter of the tag.
func CheckCounter(r *Result, last uint32) error {
	if !r.HasCounter {
		return &Error{Code: CodeReplay, Step: StepCounter, Field: "ctr", Message: "the message carries no counter, so a replay cannot be ruled out",
			Hint: "mirror the SDMReadCtr (PICCDataTag bit 6 or a plain ctr placeholder)"}
	}
	if r.Counter <= last {
		return &Error{Code: CodeReplay, Step: StepCounter, Field: "ctr", Message: fmt.Sprintf("counter %d is not greater than the last accepted %d", r.Counter, last),
			Hint: "this URL (or an older one) was already used; a genuine tap always carries a higher counter"}
	}
	return nil
}

// hexUpper returns b as uppercase hex.
func hexUpper(b []byte) string {
	const digits = "0123456789ABCDEF"
	out := make([]byte, 2*len(b))
	for i, c := range b {
		out[2*i], out[2*i+1] = digits[c>>4], digits[c&15]
	}
	return string(out)
}

// lrpCMACSum is CMAC_LRP of a MAC input given as a string.
func lrpCMACSum(c *lrpCMAC, in string) [16]byte {
	return c.sum([]byte(in))
}

// decryptUnverified decrypts PICCData and file data without a MAC. It is
// for test vectors that publish no MAC; a verdict must never rest on it.
func (p *Profile) decryptUnverified(m *Message) (Result, error) {
	var r Result
	s := new(scratch)
	r.Mode = ModeAES
	if len(m.PICCData) == 24 {
		r.Mode = ModeLRP
	}
	p.decryptPICC(s, m.PICCData)
	hasUID, hasCtr, ok := piccTag(s.picc[0])
	if !ok || !hasUID || !hasCtr {
		return r, &Error{Code: CodePICCInvalid, Step: StepPICC, Message: "bad PICCDataTag"}
	}
	r.PICCDataTag, r.HasTag, r.HasUID, r.HasCounter = s.picc[0], true, true, true
	copy(r.UID[:], s.picc[1:8])
	r.Counter = uint32(s.picc[8]) | uint32(s.picc[9])<<8 | uint32(s.picc[10])<<16
	f, err := p.fileKeysFor(&r)
	if err != nil {
		return r, err
	}
	if r.Mode == ModeLRP {
		lrpSessionVector(&s.sv, &r)
		s.ses = f.lrpCMAC.sum(s.sv[:])
		s.lrpSes.init(&s.ses, 2)
	}
	r.FileData = make([]byte, len(m.EncFileData))
	p.decryptFile(s, f, &r, m.EncFileData)
	return r, nil
}
