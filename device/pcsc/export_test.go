package pcsc

// SetWaitHook makes r call f just before each SCardGetStatusChange, so a
// test knows that NextCard or Release is about to block.
func SetWaitHook(r *Reader, f func()) { r.waitHook = f }
