package sun

// Tamper statuses of an NTAG 424 DNA TagTamper tag, as read from the two
// ASCII characters at the TTStatus offset of the decrypted file data (first
// the permanent status, then the current one). The names follow
// nfc-developer/sdm-backend's API.
const (
	TamperSecure         = "secure"          // "CC": loop closed and never opened
	TamperTamperedClosed = "tampered_closed" // "OC": was opened, closed now
	TamperTamperedOpen   = "tampered_open"   // "OO": opened and still open
	TamperNotInitialized = "not_initialized" // "II"
	TamperNotSupported   = "not_supported"   // "NT": placeholder never replaced
	TamperUnknown        = "unknown"         // anything else
)

// TamperStatus maps the two status characters to a tamper status name.
func TamperStatus(perm, cur byte) string {
	switch string([]byte{perm, cur}) {
	case "CC":
		return TamperSecure
	case "OC":
		return TamperTamperedClosed
	case "OO":
		return TamperTamperedOpen
	case "II":
		return TamperNotInitialized
	case "NT":
		return TamperNotSupported
	}
	return TamperUnknown
}
