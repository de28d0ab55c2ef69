package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"

	"github.com/tagd-nfc/tagd/sun"
)

// deriveCmd is `tagd keys derive`: one key from a master key.
type deriveCmd struct {
	out io.Writer

	scheme        sun.KDF
	master        hexFlag
	uid           hexFlag
	aid, systemID hexFlag
	keyNo         optUint
	version       optUint
}

func (c *deriveCmd) parse(args []string) error {
	fs := newFlagSet("keys derive")
	scheme := fs.String("scheme", "", "an10922, sdm-standard, sdm-legacy or boltcard")
	fs.Var(&c.master, "master", "master (issuer) key, hex")
	fs.Var(&c.uid, "uid", "tag UID, 14 hex characters (omit for an undiversified key)")
	c.keyNo.max = 255
	fs.Var(&c.keyNo, "key-no", "sdm-standard/sdm-legacy key slot (default 2 with --uid, 1 without)")
	fs.Var(&c.aid, "aid", "an10922: application id, hex")
	fs.Var(&c.systemID, "system-id", "an10922: system identifier, hex")
	c.version.max = 0xFFFFFFFF
	fs.Var(&c.version, "version", "boltcard: card key version (default 1)")
	if err := parseFlagSet(fs, args); err != nil {
		return err
	}
	if len(fs.args) > 0 {
		return usageErr("unexpected argument %q", fs.args[0])
	}
	if *scheme == "" {
		return usageErr("--scheme: missing (an10922, sdm-standard, sdm-legacy or boltcard)")
	}
	var err error
	if c.scheme, err = sun.ParseKDF(*scheme); err != nil {
		return usageErr("--scheme: %v", err)
	}
	if !c.master.set {
		return usageErr("--master: missing")
	}
	if (c.scheme == sun.KDFAN10922 || c.scheme == sun.KDFBoltcard) && !c.uid.set {
		return usageErr("--uid: missing (%s keys are diversified by the tag UID)", c.scheme)
	}
	if c.scheme != sun.KDFAN10922 && (c.aid.set || c.systemID.set) {
		return usageErr("--aid/--system-id: only meaningful with --scheme an10922")
	}
	if c.scheme != sun.KDFBoltcard && c.version.set {
		return usageErr("--version: only meaningful with --scheme boltcard")
	}
	return nil
}

// boltcardOutput is the JSON printed for --scheme boltcard.
type boltcardOutput struct {
	CardKey string `json:"card_key"`
	ID      string `json:"id"`
	K0      string `json:"k0"`
	K1      string `json:"k1"`
	K2      string `json:"k2"`
	K3      string `json:"k3"`
	K4      string `json:"k4"`
}

func (c *deriveCmd) run(context.Context) error {
	var key [16]byte
	var err error
	keyNo := 2
	if !c.uid.set {
		keyNo = 1
	}
	if c.keyNo.set {
		keyNo = int(c.keyNo.v)
	}
	switch c.scheme {
	case sun.KDFBoltcard:
		v := uint32(1)
		if c.version.set {
			v = uint32(c.version.v)
		}
		k, err := sun.Boltcard(c.master.b, c.uid.b, v)
		if err != nil {
			return kdfUsage(err)
		}
		h := func(b [16]byte) string { return fmt.Sprintf("%X", b) }
		return json.NewEncoder(c.out).Encode(boltcardOutput{h(k.CardKey), h(k.ID), h(k.K0), h(k.K1), h(k.K2), h(k.K3), h(k.K4)})
	case sun.KDFAN10922:
		key, err = sun.AN10922(c.master.b, sun.AN10922Input(c.uid.b, c.aid.b, c.systemID.b))
	case sun.KDFSDMStandard:
		if c.uid.set {
			key, err = sun.SDMStandardTagKey(c.master.b, c.uid.b, keyNo)
		} else if keyNo != 1 {
			return usageErr("--key-no: sdm-standard has an undiversified key only for slot 1 (the meta key); give --uid for slot %d", keyNo)
		} else {
			key, err = sun.SDMStandardMetaKey(c.master.b)
		}
	case sun.KDFSDMLegacy:
		var uid []byte
		if c.uid.set {
			uid = c.uid.b
		}
		key, err = sun.SDMLegacyKey(c.master.b, uid, keyNo)
	}
	if err != nil {
		return kdfUsage(err)
	}
	_, err = fmt.Fprintf(c.out, "%X\n", key)
	return err
}
