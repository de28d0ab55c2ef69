package device

import (
	"context"
	"encoding/hex"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/tagd-nfc/tagd"
)

// Defaults of the Loop's timing fields.
const (
	// DefaultDebounce: the same UID presented again within this time of
	// leaving counts as still held, and is not read again.
	DefaultDebounce = 750 * time.Millisecond
	// DefaultReadyAfter: after starting or failing, the reader counts as
	// ready once NextCard (or NextLine) has waited this long without an
	// error.
	DefaultReadyAfter = 500 * time.Millisecond
)

// Loop turns a reader into taps: it waits for a card, reads its NDEF URL
// once per presence, hands the Tap to OnTap, waits for the card to leave,
// and reports the reader's status; on reader errors it backs off and
// tries again until its context ends. Set exactly one of Driver and
// Lines. The zero values of the other fields are usable.
type Loop struct {
	// Driver presents cards (PC/SC, PN532, the simulator).
	Driver Driver
	// Lines is the alternative to Driver: a reader that sends one URL or
	// UID per line.
	Lines LineSource
	// OnTap receives every tap, synchronously on the loop's goroutine.
	OnTap func(ctx context.Context, t Tap)
	// OnStatus receives every change of the reader's status, in order.
	// It must not block for long; Status may be called from it.
	OnStatus func(tagd.ReaderStatus)
	// Now is the clock (time.Now when nil).
	Now func() time.Time
	// Backoff gives the wait before retry number attempt (1, 2, …) after
	// consecutive failures (DefaultBackoff when nil).
	Backoff func(attempt int) time.Duration
	// Debounce is how long after a card left the same UID still counts as
	// the same presence (DefaultDebounce when 0, off when negative): a
	// card a driver reports again while it is held is read once.
	Debounce time.Duration
	// ReadyAfter is how long NextCard must wait without failing before a
	// starting or failed reader counts as ready (DefaultReadyAfter when
	// 0).
	ReadyAfter time.Duration
	// Logger receives the loop's log lines (discarded when nil).
	Logger *slog.Logger

	emitMu sync.Mutex // serialises OnStatus calls, held around mu
	mu     sync.Mutex
	status tagd.ReaderStatus
	gen    uint64 // identifies the wait the ready timer belongs to
	fired  bool   // the ready timer of the current wait fired

	// afterFunc replaces time.AfterFunc in tests.
	afterFunc func(d time.Duration, f func()) (stop func() bool)

	// loop goroutine only
	name     string
	lastUID  string
	lastGone time.Time
	lastFail string // the error of the last failure logged as a warning
}

// Status returns the latest status of the reader.
func (l *Loop) Status() tagd.ReaderStatus {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.status
}

// errLoopConfig: Run needs exactly one of Driver and Lines.
var errLoopConfig = errors.New("device: loop needs exactly one of Driver and Lines")

// Run reads taps until ctx ends, then returns nil. It returns an error
// only when the loop is misconfigured. It does not close the reader.
func (l *Loop) Run(ctx context.Context) error {
	if (l.Driver == nil) == (l.Lines == nil) {
		return errLoopConfig
	}
	name := ""
	if l.Driver != nil {
		name = l.Driver.Name()
	} else {
		name = l.Lines.Name()
	}
	l.name = name
	l.mu.Lock()
	l.status = tagd.ReaderStatus{Reader: name}
	l.mu.Unlock()
	l.set(tagd.ReaderStarting, "", time.Time{})
	if l.Driver != nil {
		l.runDriver(ctx)
	} else {
		l.runLines(ctx)
	}
	return nil
}

// runDriver is Run for a Driver.
func (l *Loop) runDriver(ctx context.Context) {
	attempt := 0
	for ctx.Err() == nil {
		stop := l.armReady()
		card, err := l.Driver.NextCard(ctx)
		if stop() {
			attempt = 0
		}
		if err == nil {
			attempt = 0
			err = l.handle(ctx, card)
		}
		if err == nil {
			continue
		}
		if ctx.Err() != nil {
			return
		}
		attempt++
		l.fail(err, attempt)
		if !l.wait(ctx, attempt) {
			return
		}
	}
}

// handle reads one card, hands its tap to OnTap and waits for it to
// leave. The error is the driver's (Release); a failed read is only
// reported in the status.
func (l *Loop) handle(ctx context.Context, card Card) error {
	now := l.now()
	uid := strings.ToUpper(hex.EncodeToString(card.UID()))
	debounce := l.Debounce
	if debounce == 0 {
		debounce = DefaultDebounce
	}
	if uid != "" && uid == l.lastUID && debounce > 0 && now.Sub(l.lastGone) < debounce {
		// Still the card of the last tap: a driver that polls reported
		// it again. Reading it again would burn a SUN counter value.
		l.log().Debug("tag still present", "uid", uid)
		err := l.Driver.Release(ctx, card)
		l.lastGone = l.now()
		return err
	}
	l.set(tagd.ReaderTag, "", time.Time{})
	tap := Tap{Reader: l.name, UID: uid, Time: now}
	url, err := ReadURI(ctx, card)
	detail, ok := "", true
	switch {
	case err == nil:
		tap.URL = url
	case noURL(err) && uid != "":
		// Still a tap: the check flow looks the tag up by its UID.
		detail = "no URL on the tag: " + err.Error()
	default:
		detail, ok = "tag not read: "+err.Error(), false
		tap = Tap{}
	}
	if ok {
		l.log().Info("tap", "uid", uid, "url", redactURL(tap.URL))
		if l.OnTap != nil {
			l.OnTap(ctx, tap)
		}
	} else {
		l.log().Warn("tag not read", "uid", uid, "err", err)
	}
	l.set(tagd.ReaderTag, detail, time.Time{})
	err = l.Driver.Release(ctx, card)
	l.lastUID, l.lastGone = uid, l.now()
	if !ok {
		// A card that was not read is not debounced: held on the reader
		// after a glitch (a timeout, a frame lost), it is read on the
		// next poll instead of being taken for a tap already made.
		l.lastUID = ""
	}
	if err != nil {
		return err
	}
	l.set(tagd.ReaderReady, detail, tap.Time)
	return nil
}

// ReadURI reads a card's NDEF message by its type and returns the URI of
// its first URI record.
func ReadURI(ctx context.Context, card Card) (string, error) {
	var msg []byte
	var err error
	switch card.Type() {
	case Type4:
		msg, err = ReadType4(ctx, card)
	case Type2:
		msg, err = ReadType2(ctx, card)
	default:
		err = ErrTagType
	}
	if err != nil {
		return "", err
	}
	return FirstURI(msg)
}

// noURL reports whether a read error means that the tag holds no URL (as
// opposed to a failed read): no NDEF application, no NDEF message, no URI
// record, an unsupported tag type.
func noURL(err error) bool {
	return errors.Is(err, ErrNoNDEF) || errors.Is(err, ErrNoURI) || errors.Is(err, ErrTagType) ||
		errors.Is(err, &SWError{SW: SWNotFound, Op: "select NDEF application"})
}

// runLines is Run for a LineSource.
func (l *Loop) runLines(ctx context.Context) {
	attempt := 0
	for ctx.Err() == nil {
		stop := l.armReady()
		line, err := l.Lines.NextLine(ctx)
		if stop() {
			attempt = 0
		}
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			attempt++
			l.fail(err, attempt)
			if !l.wait(ctx, attempt) {
				return
			}
			continue
		}
		attempt = 0
		tap, err := ParseLine(line)
		switch {
		case err != nil:
			l.log().Warn("line ignored", "err", err)
			l.set(tagd.ReaderReady, "line ignored: "+err.Error(), time.Time{})
		case tap == Tap{}:
			l.set(tagd.ReaderReady, l.Status().Detail, time.Time{})
		default:
			tap.Reader, tap.Time = l.name, l.now()
			l.log().Info("tap", "uid", tap.UID, "url", redactURL(tap.URL))
			if l.OnTap != nil {
				l.OnTap(ctx, tap)
			}
			l.set(tagd.ReaderReady, "", tap.Time)
		}
	}
}

// fail reports a reader error. A reader that stays away fails every few
// seconds for as long as it is missing: the same error again is a warning
// only at attempts 1, 2, 4, 8, … (a debug line otherwise), so that an
// unplugged reader leaves a dozen lines a day in the log, not thousands.
// The status (what the kiosk and /api/v1/readers show) is set every time.
func (l *Loop) fail(err error, attempt int) {
	state := tagd.ReaderError
	if errors.Is(err, ErrReaderAbsent) {
		state = tagd.ReaderAbsent
	}
	msg := err.Error()
	if msg != l.lastFail || attempt&(attempt-1) == 0 {
		l.log().Warn("reader failed", "err", err, "attempt", attempt)
		l.lastFail = msg
	} else {
		l.log().Debug("reader failed", "err", err, "attempt", attempt)
	}
	l.set(state, msg, time.Time{})
}

// wait backs off before retry number attempt; false when ctx ended.
func (l *Loop) wait(ctx context.Context, attempt int) bool {
	backoff := l.Backoff
	if backoff == nil {
		backoff = DefaultBackoff
	}
	t := time.NewTimer(backoff(attempt))
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// armReady starts a wait for the reader: when the status is not ready, a
// timer makes it ready after ReadyAfter. The returned stop ends the wait
// and reports whether the timer fired (the reader had been healthy).
func (l *Loop) armReady() (stop func() bool) {
	l.mu.Lock()
	l.gen++
	gen := l.gen
	l.fired = false
	ready := l.status.State == tagd.ReaderReady
	l.mu.Unlock()
	if ready {
		return func() bool {
			l.mu.Lock()
			defer l.mu.Unlock()
			l.gen++
			return false
		}
	}
	after := l.ReadyAfter
	if after <= 0 {
		after = DefaultReadyAfter
	}
	afterFunc := l.afterFunc
	if afterFunc == nil {
		afterFunc = func(d time.Duration, f func()) func() bool { return time.AfterFunc(d, f).Stop }
	}
	stopTimer := afterFunc(after, func() {
		l.emitMu.Lock()
		defer l.emitMu.Unlock()
		l.mu.Lock()
		if l.gen != gen {
			l.mu.Unlock()
			return
		}
		l.fired = true
		st, changed := l.update(tagd.ReaderReady, "", time.Time{})
		l.mu.Unlock()
		if changed && l.OnStatus != nil {
			l.OnStatus(st)
		}
	})
	return func() bool {
		stopTimer()
		l.mu.Lock()
		defer l.mu.Unlock()
		l.gen++
		return l.fired
	}
}

// set changes the status (keeping LastTap when lastTap is zero) and
// reports a change to OnStatus.
func (l *Loop) set(state tagd.ReaderState, detail string, lastTap time.Time) {
	l.emitMu.Lock()
	defer l.emitMu.Unlock()
	l.mu.Lock()
	st, changed := l.update(state, detail, lastTap)
	l.mu.Unlock()
	if changed && l.OnStatus != nil {
		l.OnStatus(st)
	}
}

// update applies a status change under l.mu; Since moves when the state
// does.
func (l *Loop) update(state tagd.ReaderState, detail string, lastTap time.Time) (tagd.ReaderStatus, bool) {
	st := l.status
	if st.State != state {
		st.State, st.Since = state, l.now()
	}
	st.Detail = detail
	if !lastTap.IsZero() {
		st.LastTap = lastTap
	}
	changed := st != l.status
	l.status = st
	return st, changed
}

// now reads the clock.
func (l *Loop) now() time.Time {
	if l.Now != nil {
		return l.Now()
	}
	return time.Now()
}

// log returns the logger.
func (l *Loop) log() *slog.Logger {
	if l.Logger != nil {
		return l.Logger.With("reader", l.name)
	}
	return slog.New(slog.DiscardHandler)
}

// redactURL drops the query of a tag URL for the log: it holds the SUN
// message, and a logged URL that never reached the check flow would still
// be a valid tap for whoever reads the log.
func redactURL(u string) string {
	if i := strings.IndexAny(u, "?#"); i >= 0 {
		return u[:i] + "?…"
	}
	return u
}
