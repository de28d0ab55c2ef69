// Package tagd is the vocabulary of the tagd appliance: an on-prem box at a
// retail counter that reads NFC taps from a PC/SC or serial reader, verifies
// NTAG 424 DNA Secure Unique NFC (SUN) messages locally against its own key
// store, shows the verdict on a kiosk page and answers the ixkio-compatible
// HTTP API on the LAN.
//
// This package holds the domain types, the error codes and the interfaces
// that the adapters (store, httpapi, ui, device, central) implement or
// consume. It imports only the standard library; cmd/tagd wires the adapters
// together.
package tagd
