// Package sim simulates readers and tags for demos and tests: a virtual
// NTAG 424 DNA that holds real keys and answers ISO 7816-4 APDUs with
// genuine SUN messages, a client for vsmartcard's vpcd (so the card
// appears in a real pcscd), a PN532 simulator for serial tests, and an
// in-process reader.
package sim

// APDUHandler is a contactless card seen from the reader side: it is
// powered, asked for its ATR, and answers C-APDUs with R-APDUs (data ‖ SW1
// SW2). The vpcd client and the PN532 simulator drive one; the virtual
// NTAG 424 DNA is one.
type APDUHandler interface {
	// Power is called with false when the field is switched off (the card
	// leaves or is reset) and true when it is switched on again.
	Power(on bool)
	// ATR returns the answer-to-reset that PC/SC shows for the card.
	ATR() []byte
	// UID returns the 7-byte anticollision UID.
	UID() []byte
	// APDU answers one C-APDU.
	APDU(capdu []byte) []byte
}
