package sun

import "fmt"

// Mode is the SDM crypto mode of a tag: AES or LRP.
type Mode uint8

// Modes. ModeAuto accepts both and tells them apart by the PICCData length.
const (
	ModeAuto Mode = iota
	ModeAES
	ModeLRP
)

// String returns "auto", "aes" or "lrp".
func (m Mode) String() string {
	switch m {
	case ModeAES:
		return "aes"
	case ModeLRP:
		return "lrp"
	default:
		return "auto"
	}
}

// ParseMode parses "aes", "lrp" or "auto" (or "" for auto).
func ParseMode(s string) (Mode, error) {
	switch s {
	case "aes", "AES":
		return ModeAES, nil
	case "lrp", "LRP":
		return ModeLRP, nil
	case "", "auto":
		return ModeAuto, nil
	}
	return 0, fmt.Errorf("mode %q: want aes, lrp or auto", s)
}

// allows reports whether a profile in mode m accepts a message in mode x.
func (m Mode) allows(x Mode) bool { return m == ModeAuto || m == x }
