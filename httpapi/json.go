package httpapi

import (
	"bytes"
	"encoding/json"
	"unicode/utf8"
)

// The replies are written by hand rather than with encoding/json so that
// their key order is fixed by the code (ixkio's order), never by a map or
// by struct tags that a later edit could reorder.

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string, escaped exactly as
// encoding/json escapes it (HTML-safe, U+2028/U+2029 escaped, invalid
// UTF-8 replaced by U+FFFD).
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' && c != '<' && c != '>' && c != '&' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xF])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && size == 1:
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
		case r == '\u2028' || r == '\u2029':
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xF])
		default:
			i += size
			continue
		}
		i += size
		start = i
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}

// appendRawJSON appends v compacted when it is valid JSON, and reports
// whether it was.
func appendRawJSON(b []byte, v string) ([]byte, bool) {
	if !json.Valid([]byte(v)) {
		return b, false
	}
	buf := bytes.NewBuffer(b)
	if err := json.Compact(buf, []byte(v)); err != nil {
		return b, false
	}
	return buf.Bytes(), true
}
