package device

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
)

// MaxLineLen is the longest line a line reader may send; longer lines are
// rejected whole.
const MaxLineLen = 2048

// ErrLine: a line from a line reader is neither a URL nor a UID.
var ErrLine = errors.New("device: line is neither an http(s) URL nor a UID")

// ParseLine turns one line of a line reader into a Tap (without Reader and
// Time): a URL when the trimmed line parses as an absolute http or https
// URL with a host, else a UID when it is 8 or 14 hex digits (returned in
// uppercase). An empty line gives an empty Tap and no error; anything else
// is ErrLine, and a line longer than MaxLineLen is an error too.
func ParseLine(line string) (Tap, error) {
	if len(line) > MaxLineLen {
		return Tap{}, fmt.Errorf("%w: %d bytes, longer than %d", ErrLine, len(line), MaxLineLen)
	}
	s := strings.TrimSpace(line)
	if s == "" {
		return Tap{}, nil
	}
	if u, err := url.Parse(s); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != "" {
		return Tap{URL: s}, nil
	}
	if (len(s) == 8 || len(s) == 14) && isHex(s) {
		return Tap{UID: strings.ToUpper(s)}, nil
	}
	return Tap{}, fmt.Errorf("%w: %s", ErrLine, quoteShort(s))
}

// isHex reports whether s is all hex digits.
func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

// quoteShort quotes at most the first 40 bytes of s, for status details.
func quoteShort(s string) string {
	if len(s) > 40 {
		return fmt.Sprintf("%q…", s[:40])
	}
	return fmt.Sprintf("%q", s)
}
