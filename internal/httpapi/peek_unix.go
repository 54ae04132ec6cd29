//go:build unix

package httpapi

import "syscall"

// peerHasSent is a syscall.RawConn.Read callback that reports whether the
// socket has bytes to read (or an end or error to report) without taking
// any: RawConn.Read waits for readability while it returns false.
func peerHasSent(fd uintptr) bool {
	var b [1]byte
	_, _, err := syscall.Recvfrom(int(fd), b[:], syscall.MSG_PEEK|syscall.MSG_DONTWAIT)
	return err != syscall.EAGAIN && err != syscall.EWOULDBLOCK && err != syscall.EINTR
}
