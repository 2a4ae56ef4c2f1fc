//go:build darwin || dragonfly || freebsd || linux || netbsd || openbsd

package bboltdb

import (
	"errors"
	"os"
	"syscall"
	"time"
)

// lockFile takes the same flock(2) lock bbolt takes, on the same descriptor,
// so bbolt's own attempt afterwards succeeds at once: taking it first lets
// Open check the file while no other process can be writing it. It gives up
// with errFileLocked after timeout.
func lockFile(f *os.File, exclusive bool, timeout time.Duration) error {
	how := syscall.LOCK_SH | syscall.LOCK_NB
	if exclusive {
		how = syscall.LOCK_EX | syscall.LOCK_NB
	}
	deadline := time.Now().Add(timeout)
	for {
		err := syscall.Flock(int(f.Fd()), how)
		if err == nil {
			return nil
		}
		if !errors.Is(err, syscall.EWOULDBLOCK) {
			return err
		}
		if time.Now().After(deadline) {
			return errFileLocked
		}
		time.Sleep(50 * time.Millisecond)
	}
}
