//go:build !unix

package httpapi

// peerHasSent cannot peek here, so waitReadable does not wait.
func peerHasSent(uintptr) bool { return true }
