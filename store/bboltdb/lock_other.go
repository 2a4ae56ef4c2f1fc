//go:build !(darwin || dragonfly || freebsd || linux || netbsd || openbsd)

package bboltdb

import (
	"os"
	"time"
)

// lockFile does nothing where flock(2) is missing: bbolt takes its own lock
// right after, and its timeout is reported as store.ErrLocked. The file is then
// checked before it is locked.
func lockFile(*os.File, bool, time.Duration) error { return nil }
