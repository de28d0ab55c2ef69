package pn532

import (
	"context"
	"fmt"
)

// PN532 command codes (the response code is the command code + 1).
const (
	CmdDiagnose            byte = 0x00
	CmdGetFirmwareVersion  byte = 0x02
	CmdSAMConfiguration    byte = 0x14
	CmdRFConfiguration     byte = 0x32
	CmdInDataExchange      byte = 0x40
	CmdInListPassiveTarget byte = 0x4A
	CmdInRelease           byte = 0x52
)

// Command parameters.
const (
	// DiagnosePresence is Diagnose's NumTst "is the ISO 14443-4 target
	// still there".
	DiagnosePresence byte = 0x06
	// RFConfigMaxRetries is RFConfiguration's CfgItem for MxRtyATR,
	// MxRtyPSL and MxRtyPassiveActivation.
	RFConfigMaxRetries byte = 0x05
	// BaudRate106TypeA is InListPassiveTarget's BrTy for 106 kbps type A
	// (ISO 14443-3A).
	BaudRate106TypeA byte = 0x00
	// StatusMI is the InDataExchange status bit "more information": the
	// answer continues in the next exchange.
	StatusMI byte = 0x40
	// MaxExchangeData is the most data one InDataExchange frame carries
	// (265 - TFI, command code and Tg).
	MaxExchangeData = MaxFrameLen - 3
)

const (
	statusMask            byte = 0x3F
	maxDataExchangeRounds      = 16
	wakeupZeros                = 14
)

// Firmware is GetFirmwareVersion's answer: IC 0x32 for a PN532, the
// firmware version and revision, and the supported-protocols bit field.
type Firmware struct {
	IC       byte // 0x32 for a PN532
	Version  byte // firmware version
	Revision byte // firmware revision
	Support  byte // supported protocols: bit 0 ISO/IEC 14443 A, 1 B, 2 ISO 18092
}

// String formats the firmware as "PN5xx v1.6 (support 07)".
func (f Firmware) String() string {
	return fmt.Sprintf("PN5%02X v%d.%d (support %02X)", f.IC, f.Version, f.Revision, f.Support)
}

// Wakeup wakes a PN532 from its power-up LowVbat state: it sends 55 55
// and a run of 00 bytes right before SAMConfiguration (normal mode,
// virtual-card timeout 1 s, IRQ on: D4 14 01 14 01 → D5 15).
func (l *Link) Wakeup(ctx context.Context) error {
	pre := append([]byte{0x55, 0x55}, make([]byte, wakeupZeros)...)
	_, err := l.exchange(ctx, pre, []byte{CmdSAMConfiguration, 0x01, 0x14, 0x01}, 0)
	return err
}

// SAMConfiguration sets normal mode (D4 14 01 14 01) without the wake-up
// bytes.
func (l *Link) SAMConfiguration(ctx context.Context) error {
	_, err := l.Exchange(ctx, []byte{CmdSAMConfiguration, 0x01, 0x14, 0x01}, 0)
	return err
}

// GetFirmwareVersion asks D4 02 and parses D5 03 IC Ver Rev Support.
func (l *Link) GetFirmwareVersion(ctx context.Context) (Firmware, error) {
	rsp, err := l.Exchange(ctx, []byte{CmdGetFirmwareVersion}, 0)
	if err != nil {
		return Firmware{}, err
	}
	if len(rsp) != 4 {
		return Firmware{}, fmt.Errorf("%w: firmware version % X", ErrBadResponse, rsp)
	}
	return Firmware{IC: rsp[0], Version: rsp[1], Revision: rsp[2], Support: rsp[3]}, nil
}

// SetMaxRetries sets how many times InListPassiveTarget tries to activate
// a target before it answers "none" (RFConfiguration D4 32 05 FF 01 n).
// FF means forever; anything else makes the command return.
func (l *Link) SetMaxRetries(ctx context.Context, passive byte) error {
	_, err := l.Exchange(ctx, []byte{CmdRFConfiguration, RFConfigMaxRetries, 0xFF, 0x01, passive}, 0)
	return err
}

// InListPassiveTarget looks for one ISO 14443-A target at 106 kbps
// (D4 4A 01 00) and returns it, or nil when none answered within the
// configured retries. The response timeout is Timing.Poll.
func (l *Link) InListPassiveTarget(ctx context.Context) (*Target, error) {
	rsp, err := l.Exchange(ctx, []byte{CmdInListPassiveTarget, 0x01, BaudRate106TypeA}, l.timing.Poll)
	if err != nil {
		return nil, err
	}
	return ParseTarget(rsp)
}

// InDataExchange sends data to target tg (D4 40 tg data) and returns the
// target's answer. A status other than 0 comes back as a Status error.
// When the PN532 sets the MI bit (the answer did not fit one frame), it
// asks for the rest with further empty InDataExchange commands and
// returns the whole answer.
func (l *Link) InDataExchange(ctx context.Context, tg byte, data []byte) ([]byte, error) {
	if len(data) > MaxExchangeData {
		return nil, fmt.Errorf("%w: %d bytes for InDataExchange", ErrTooLong, len(data))
	}
	var out []byte
	cmd := append([]byte{CmdInDataExchange, tg}, data...)
	for range maxDataExchangeRounds {
		rsp, err := l.Exchange(ctx, cmd, 0)
		if err != nil {
			return nil, err
		}
		if len(rsp) < 1 {
			return nil, fmt.Errorf("%w: InDataExchange without status", ErrBadResponse)
		}
		if st := Status(rsp[0] & statusMask); st != StatusOK {
			return nil, st
		}
		out = append(out, rsp[1:]...)
		if rsp[0]&StatusMI == 0 {
			return out, nil
		}
		cmd = []byte{CmdInDataExchange, tg}
	}
	return nil, fmt.Errorf("%w: more than %d chained InDataExchange answers", ErrTooLong, maxDataExchangeRounds)
}

// InRelease releases target tg (0: all) with D4 52 tg → D5 53 status.
func (l *Link) InRelease(ctx context.Context, tg byte) error {
	rsp, err := l.Exchange(ctx, []byte{CmdInRelease, tg}, 0)
	if err != nil {
		return err
	}
	if len(rsp) < 1 {
		return fmt.Errorf("%w: InRelease without status", ErrBadResponse)
	}
	if st := Status(rsp[0] & statusMask); st != StatusOK {
		return st
	}
	return nil
}

// PresenceCheck asks whether the activated ISO 14443-4 target is still in
// the field (Diagnose D4 00 06 → D5 01 status). A non-zero status means
// it is gone.
func (l *Link) PresenceCheck(ctx context.Context) (bool, error) {
	rsp, err := l.Exchange(ctx, []byte{CmdDiagnose, DiagnosePresence}, 0)
	if err != nil {
		return false, err
	}
	if len(rsp) < 1 {
		return false, fmt.Errorf("%w: Diagnose without status", ErrBadResponse)
	}
	return rsp[0]&statusMask == 0, nil
}
