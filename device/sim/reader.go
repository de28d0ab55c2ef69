package sim

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/tagd-nfc/tagd/device"
)

// ErrClosed is returned by a closed Reader.
var ErrClosed = errors.New("sim: reader closed")

// ErrRemoved is what a removed card's Transmit returns; it wraps
// device.ErrCardLeft.
var ErrRemoved = fmt.Errorf("sim: card removed: %w", device.ErrCardLeft)

// Reader is an in-process reader (a device.Driver) for `tagd run --reader
// sim`, demos and tests: Present puts a card in its field and Remove
// takes it away. NextCard returns each presence once, and Release waits
// until that card has left, like a PC/SC reader. It is safe for
// concurrent use.
type Reader struct {
	name string

	mu      sync.Mutex
	cur     *presence
	changed chan struct{} // closed and replaced on every change
	done    chan struct{} // closed by Close
	closed  bool
}

// presence is one stay of a card in the field.
type presence struct {
	h      APDUHandler
	handed bool          // NextCard returned it
	gone   chan struct{} // closed when the card leaves
}

// NewReader returns an empty reader with the given name.
func NewReader(name string) *Reader {
	return &Reader{name: name, changed: make(chan struct{}), done: make(chan struct{})}
}

// Name returns the reader's name.
func (r *Reader) Name() string { return r.name }

// Present puts card in the field, powered on; a card already there leaves
// first.
func (r *Reader) Present(card APDUHandler) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.removeLocked()
	card.Power(true)
	r.cur = &presence{h: card, gone: make(chan struct{})}
	r.broadcastLocked()
}

// Remove takes the card out of the field (powering it off), if there is
// one.
func (r *Reader) Remove() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.removeLocked()
}

// removeLocked ends the current presence.
func (r *Reader) removeLocked() {
	if r.cur == nil {
		return
	}
	r.cur.h.Power(false)
	close(r.cur.gone)
	r.cur = nil
	r.broadcastLocked()
}

// broadcastLocked wakes every waiting NextCard.
func (r *Reader) broadcastLocked() {
	close(r.changed)
	r.changed = make(chan struct{})
}

// NextCard waits until a card is presented that NextCard has not returned
// yet, and returns it (a *Card).
func (r *Reader) NextCard(ctx context.Context) (device.Card, error) {
	for {
		r.mu.Lock()
		if r.closed {
			r.mu.Unlock()
			return nil, ErrClosed
		}
		if p := r.cur; p != nil && !p.handed {
			p.handed = true
			r.mu.Unlock()
			return &Card{h: p.h, p: p, r: r}, nil
		}
		ch := r.changed
		r.mu.Unlock()
		select {
		case <-ch:
		case <-r.done:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
}

// Release waits until c, a card NextCard returned, has left the field.
func (r *Reader) Release(ctx context.Context, c device.Card) error {
	sc, ok := c.(*Card)
	if !ok || sc.r != r {
		return fmt.Errorf("sim: Release of a card from another reader")
	}
	select {
	case <-sc.p.gone:
		return nil
	case <-r.done:
		return ErrClosed
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Close makes blocked and later NextCard and Release calls return
// ErrClosed; a card in the field leaves.
func (r *Reader) Close() error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.closed {
		r.closed = true
		r.removeLocked()
		close(r.done)
	}
	return nil
}

// Card is a device.Card of Type 4 that passes C-APDUs to an APDUHandler;
// once its card has left a Reader's field, Transmit returns ErrRemoved.
type Card struct {
	h APDUHandler
	p *presence // nil: always present
	r *Reader
}

// NewCard returns a Card for h that is always in the field (no Reader).
func NewCard(h APDUHandler) *Card { return &Card{h: h} }

// Type returns device.Type4.
func (c *Card) Type() device.TagType { return device.Type4 }

// UID returns the handler's UID.
func (c *Card) UID() []byte { return c.h.UID() }

// Transmit sends apdu to the handler and returns its answer.
func (c *Card) Transmit(ctx context.Context, apdu []byte) ([]byte, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if c.p != nil {
		select {
		case <-c.p.gone:
			return nil, ErrRemoved
		default:
		}
	}
	return c.h.APDU(append([]byte(nil), apdu...)), nil
}

// ReadPage fails: a simulated card is a Type 4 tag.
func (c *Card) ReadPage(ctx context.Context, n byte) ([]byte, error) {
	return nil, fmt.Errorf("sim: ReadPage on a Type 4 card: %w", device.ErrTagType)
}
