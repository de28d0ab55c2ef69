// Package pn532 drives an NXP PN532 NFC controller over its UART (HSU)
// frame protocol (research/readers.md §2), over any Port: a byte stream
// with read deadlines. It holds no serial-port code; device/serial opens
// the real line.
//
// Layers, bottom up:
//   - frames: AppendFrame/EncodeFrame and DecodeFrame for normal and
//     extended information frames (LCS, DCS, TFI D4/D5), ACK, NACK and the
//     application error frame; a Decoder that reads frames from a stream
//     and resynchronises after garbage;
//   - Link: one command at a time — frame out, ACK (resend on NACK),
//     response (NACK a damaged one), ACK to abort on a timeout — and the
//     commands a tag reader needs (Wakeup with SAMConfiguration,
//     GetFirmwareVersion, RFConfiguration MaxRetries, InListPassiveTarget,
//     InDataExchange, InRelease, Diagnose presence check);
//   - Device: a device.Driver that polls for tags, hands out Cards (Type 4
//     APDUs or Type 2 page reads), waits for a tag to leave, and reopens
//     its port after a failure.
//
// Wiring with device/serial:
//
//	dev := pn532.New(pn532.Config{
//		Name: "/dev/serial0",
//		Open: func() (pn532.Port, error) { return serial.Open("/dev/serial0", 115200) },
//	})
package pn532
