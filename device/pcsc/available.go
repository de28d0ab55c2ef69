package pcsc

import (
	"errors"

	"github.com/ebfe/scard"
)

// HasReader reports whether pcscd runs and has a reader that Options.Name
// would choose (any reader when name is ""). `tagd run --reader auto`
// uses it to fall back to the simulated reader under --demo when the
// machine has pcscd (often socket-activated) but no reader.
func HasReader(name string) bool {
	sc, err := scard.EstablishContext()
	if err != nil {
		return false
	}
	defer sc.Release()
	names, err := sc.ListReaders()
	if err != nil && !errors.Is(err, scard.ErrNoReadersAvailable) {
		return false
	}
	return chooseReader(names, name) != ""
}
