package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/tagd-nfc/tagd/sun"
)

// verifyCmd is `tagd verify`: a stateless SUN check of one URL or one set
// of components, printing one JSON object.
type verifyCmd struct {
	out io.Writer

	metaKey, fileKey          keyFlag
	master                    hexFlag
	aid, systemID             hexFlag
	picc, uid, enc, mac, bulk hexField
	ctr                       string
	ctrSet                    bool
	mode                      sun.Mode
	kdf                       sun.KDF
	keyNo, kdfVersion, tamper optUint
	lastCounter               optUint
	names                     sun.ParamNames
	macInputSpec              string
	macInputSet               bool
	url                       string
	component                 bool
}

// hexField is a message component given as a flag. Its hex is decoded at
// verification time, so that a malformed value is a bad_param verdict like
// the same value in a URL.
type hexField struct {
	s   string
	set bool
}

func (h *hexField) String() string { return h.s }

// Set records the value.
func (h *hexField) Set(s string) error { h.s, h.set = s, true; return nil }

// verifyOutput is the JSON printed by tagd verify, in this field order.
type verifyOutput struct {
	Valid         bool    `json:"valid"`
	Error         string  `json:"error,omitempty"`
	Mode          string  `json:"mode,omitempty"`
	UID           string  `json:"uid,omitempty"`
	Counter       *uint32 `json:"counter,omitempty"`
	PICCDataTag   string  `json:"picc_data_tag,omitempty"`
	FileData      string  `json:"file_data,omitempty"`
	FileDataASCII string  `json:"file_data_ascii,omitempty"`
	Tamper        string  `json:"tamper,omitempty"`
	Hint          string  `json:"hint,omitempty"`
}

func (c *verifyCmd) parse(args []string) error {
	fs := newFlagSet("verify")
	fs.Var(&c.metaKey, "meta-key", "SDMMetaReadKey, 32 hex characters (decrypts PICCData)")
	fs.Var(&c.fileKey, "file-key", "SDMFileReadKey, 32 hex characters (MAC and file data)")
	mode := fs.String("mode", "auto", "aes, lrp or auto")
	macInput := fs.String("mac-input", "", "URL form: empty|auto|at:PARAM|from:TEXT (default auto); component form: the literal MAC input (default empty)")
	param := fs.String("param", "", "parameter names: picc=NAME,enc=NAME,mac=NAME,uid=NAME,ctr=NAME,bulk=NAME,sep=TEXT (default picc_data, enc, cmac, uid, ctr, e)")
	c.tamper.max = 1 << 16
	fs.Var(&c.tamper, "tamper-offset", "offset of the TagTamper status in the decrypted file data")
	fs.Var(&c.picc, "picc", "component form: encrypted PICCData, hex")
	fs.Var(&c.uid, "uid", "component form: plain UID, hex")
	ctr := fs.String("ctr", "", "component form: plain counter, 6 hex characters, MSB first")
	fs.Var(&c.bulk, "bulk", "component form: bulk value PICCData‖file data‖MAC, hex")
	fs.Var(&c.enc, "enc", "component form: SDMENCFileData, hex")
	fs.Var(&c.mac, "mac", "component form: SDMMAC, 16 hex characters")
	c.lastCounter.max = 0xFFFFFF
	fs.Var(&c.lastCounter, "last-counter", "last accepted counter of the tag: a counter not above it is a replay")
	kdf := fs.String("kdf", "", "derive the keys: an10922, sdm-standard, sdm-legacy or boltcard (file key from the UID)")
	fs.Var(&c.master, "master", "with --kdf: the master (issuer) key, hex")
	c.keyNo.max = 255
	fs.Var(&c.keyNo, "key-no", "with --kdf sdm-standard|sdm-legacy: the file key's slot (default 2)")
	fs.Var(&c.aid, "aid", "with --kdf an10922: the application id, hex")
	fs.Var(&c.systemID, "system-id", "with --kdf an10922: the system identifier, hex")
	c.kdfVersion.max = 0xFFFFFFFF
	fs.Var(&c.kdfVersion, "version", "with --kdf boltcard: the card key version (default 1)")
	if err := parseFlagSet(fs, args); err != nil {
		return err
	}
	var err error
	if c.mode, err = sun.ParseMode(*mode); err != nil {
		return usageErr("--mode: %v", err)
	}
	if c.names, err = sun.ParseParamNames(*param, sun.DefaultParamNames()); err != nil {
		return usageErr("--param: %v", err)
	}
	c.macInputSpec = *macInput
	c.ctr = *ctr
	setFlags := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { setFlags[f.Name] = true })
	c.macInputSet, c.ctrSet = setFlags["mac-input"], setFlags["ctr"]
	// --uid alone may accompany a URL: the UID of a tag whose URL does not
	// mirror it (ixkio's x/n/e tags, whose UID is in the tag record).
	c.component = c.picc.set || c.ctrSet || c.bulk.set || c.mac.set || c.enc.set || (c.uid.set && len(fs.args) == 0)
	switch {
	case len(fs.args) > 1:
		return usageErr("give one URL (quote it: the shell treats & as a command separator); got %d arguments", len(fs.args))
	case len(fs.args) == 1 && c.component:
		return usageErr("give either a URL or components (--picc, --ctr, --bulk, --enc, --mac), not both; only --uid may go with a URL")
	case len(fs.args) == 0 && !c.component:
		return usageErr("missing URL, or components --picc HEX | --uid HEX --ctr HEX | --bulk HEX, with --mac HEX")
	case len(fs.args) == 1:
		c.url = fs.args[0]
		if _, err := sun.ParseMACInput(c.macInputSpec); c.macInputSet && err != nil {
			return usageErr("--mac-input: %v", err)
		}
	default:
		if c.bulk.set && (c.picc.set || c.mac.set || c.enc.set || c.uid.set || c.ctrSet) {
			return usageErr("--bulk holds PICCData, file data and MAC: do not combine it with --picc, --uid, --ctr, --enc or --mac")
		}
		if !c.bulk.set && !c.mac.set {
			return usageErr("--mac: missing (the SDMMAC, 16 hex characters)")
		}
		if !c.bulk.set && !c.picc.set && !c.uid.set && !c.ctrSet {
			return usageErr("--picc, or --uid and/or --ctr: missing (the message needs PICCData or a plain UID/counter)")
		}
	}
	if *kdf != "" {
		if c.kdf, err = sun.ParseKDF(*kdf); err != nil {
			return usageErr("--kdf: %v", err)
		}
		if !c.master.set {
			return usageErr("--master: missing (--kdf %s derives the keys from a master key)", c.kdf)
		}
	} else {
		for _, f := range []string{"master", "key-no", "aid", "system-id", "version"} {
			if setFlags[f] {
				return usageErr("--%s: only meaningful with --kdf", f)
			}
		}
		if !c.fileKey.set {
			return usageErr("--file-key: missing (or derive it with --kdf SCHEME --master HEX)")
		}
	}
	return nil
}

func (c *verifyCmd) run(context.Context) error {
	out, valid, err := c.verify()
	if err != nil {
		return err
	}
	enc := json.NewEncoder(c.out)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(out); err != nil {
		return err
	}
	if !valid {
		return &exitError{code: exitInvalid}
	}
	return nil
}

// profile builds the verification profile from the key flags.
func (c *verifyCmd) profile() (*sun.Profile, error) {
	cfg := sun.ProfileConfig{Mode: c.mode, TamperOffset: -1}
	if c.tamper.set {
		cfg.TamperOffset = int(c.tamper.v)
	}
	if c.metaKey.set {
		cfg.MetaKey = c.metaKey.b
	}
	if c.fileKey.set {
		cfg.FileKey = c.fileKey.b
	}
	if c.kdf != "" {
		p := sun.KDFParams{Master: c.master.b, AID: c.aid.b, SystemID: c.systemID.b, KeyNo: 2, Version: 1}
		if c.keyNo.set {
			p.KeyNo = int(c.keyNo.v)
		}
		if c.kdfVersion.set {
			p.Version = uint32(c.kdfVersion.v)
		}
		if !c.metaKey.set {
			mp := p
			mp.KeyNo = 1 // sdm-backend's meta key slot
			mk, ok, err := c.kdf.MetaKey(mp)
			if err != nil {
				return nil, kdfUsage(err)
			}
			if ok {
				cfg.MetaKey = mk[:]
			}
		}
		if !c.fileKey.set {
			kdf := c.kdf
			cfg.DeriveFileKey = func(uid []byte) ([16]byte, error) { return kdf.FileKey(p, uid) }
		}
	}
	p, err := sun.NewProfile(cfg)
	if err != nil {
		return nil, usageErr("%v", err)
	}
	return p, nil
}

// kdfUsage turns a key-derivation error into a usage error naming the flag.
func kdfUsage(err error) error {
	if ke, ok := err.(*sun.KDFError); ok {
		return usageErr("--%s: %s", strings.ReplaceAll(ke.Field, "_", "-"), ke.Reason)
	}
	return usageErr("%v", err)
}

// verify runs the check; err is a usage error, invalid messages are
// reported in the output.
func (c *verifyCmd) verify() (verifyOutput, bool, error) {
	p, err := c.profile()
	if err != nil {
		return verifyOutput{}, false, err
	}
	var msgs []*sun.Message
	var tried []string
	if c.url != "" {
		msgs, tried, err = c.urlMessages()
	} else {
		var m *sun.Message
		m, err = c.componentMessage()
		msgs = []*sun.Message{m}
	}
	if err != nil {
		return failure(err, sun.Result{}), false, nil
	}
	var first sun.Result
	var firstErr error
	for i, m := range msgs {
		r, err := p.Verify(m)
		if err == nil && c.lastCounter.set {
			err = sun.CheckCounter(&r, uint32(c.lastCounter.v))
		}
		if err == nil {
			return output(r), true, nil
		}
		if i == 0 {
			first, firstErr = r, err
		}
		if sun.ErrorCodeOf(err) != sun.CodeMACMismatch {
			return failure(err, r), false, nil
		}
	}
	out := failure(firstErr, first)
	if len(tried) > 1 {
		out.Hint += fmt.Sprintf(". --mac-input auto tried %s, and none verified", strings.Join(tried, ", "))
	}
	return out, false, nil
}

// urlMessages parses the URL; with --mac-input auto (the default) it
// returns one message per candidate MAC input.
func (c *verifyCmd) urlMessages() ([]*sun.Message, []string, error) {
	u, err := sun.ParseURL(c.url, c.names)
	if err != nil {
		return nil, nil, err
	}
	spec := c.macInputSpec
	if !c.macInputSet {
		spec = "auto"
	}
	mi, err := sun.ParseMACInput(spec)
	if err != nil {
		return nil, nil, err
	}
	var uid []byte
	if c.uid.set {
		if uid, err = sun.DecodeHex("uid", c.uid.s); err != nil {
			return nil, nil, err
		}
	}
	cands := []sun.MACInput{mi}
	if mi.Kind == sun.MACInputAuto {
		cands = u.MACInputCandidates()
	}
	var msgs []*sun.Message
	var tried []string
	for _, cand := range cands {
		m, err := u.Message(cand)
		if err != nil {
			return nil, nil, err
		}
		if uid != nil {
			if m.UID != nil || m.PICCData != nil {
				return nil, nil, &sun.Error{Code: sun.CodeBadParam, Step: sun.StepParse, Field: "uid", Message: "--uid is for URLs that carry no UID, and this one carries one (plain or in PICCData)"}
			}
			m.UID = uid
		}
		msgs = append(msgs, m)
		tried = append(tried, cand.String())
	}
	return msgs, tried, nil
}

// componentMessage builds the message from the component flags.
func (c *verifyCmd) componentMessage() (*sun.Message, error) {
	if c.bulk.set {
		m, err := sun.DecodeBulk(c.bulk.s)
		if err == nil && c.macInputSet {
			m.MACInput = c.macInputSpec
		}
		return m, err
	}
	m := &sun.Message{MACInput: c.macInputSpec}
	for _, f := range []struct {
		name string
		h    *hexField
		dst  *[]byte
	}{{"picc", &c.picc, &m.PICCData}, {"uid", &c.uid, &m.UID}, {"enc", &c.enc, &m.EncFileData}, {"mac", &c.mac, &m.MAC}} {
		if !f.h.set {
			continue
		}
		b, err := sun.DecodeHex(f.name, f.h.s)
		if err != nil {
			return nil, err
		}
		*f.dst = b
	}
	if c.ctrSet {
		n, err := sun.ParseCounter(c.ctr)
		if err != nil {
			return nil, err
		}
		m.Counter, m.HasCounter = n, true
	}
	return m, nil
}

// output renders a successful result.
func output(r sun.Result) verifyOutput {
	o := verifyOutput{Valid: true, Mode: r.Mode.String(), UID: r.UIDHex(), Tamper: r.Tamper}
	if r.HasCounter {
		n := r.Counter
		o.Counter = &n
	}
	if r.HasTag {
		o.PICCDataTag = fmt.Sprintf("%02X", r.PICCDataTag)
	}
	if len(r.FileData) > 0 {
		o.FileData = fmt.Sprintf("%X", r.FileData)
		if printable(r.FileData) {
			o.FileDataASCII = string(r.FileData)
		}
	}
	return o
}

// failure renders a failed check with what was learnt and a hint.
func failure(err error, r sun.Result) verifyOutput {
	o := output(r)
	o.Valid = false
	o.FileData, o.FileDataASCII, o.Tamper = "", "", ""
	if r.Mode == sun.ModeAuto {
		o.Mode = ""
	}
	if se, ok := err.(*sun.Error); ok {
		o.Error = se.Code
		o.Hint = fmt.Sprintf("%s step failed: %s", se.Step, se.Message)
		if se.Field != "" {
			o.Hint = fmt.Sprintf("%s step failed on %s: %s", se.Step, se.Field, se.Message)
		}
		if se.Hint != "" {
			o.Hint += ". Likely cause: " + se.Hint
		}
		return o
	}
	o.Error = sun.CodeBadParam
	o.Hint = err.Error()
	return o
}

// printable reports whether b is printable ASCII.
func printable(b []byte) bool {
	for _, c := range b {
		if c < 0x20 || c > 0x7E {
			return false
		}
	}
	return true
}
