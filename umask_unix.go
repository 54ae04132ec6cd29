//go:build unix

package main

import "syscall"

// privateFiles makes the files and folders this process creates readable by
// its user only (umask 077): the SQLite database holds the signing secret
// and every key's hash, and the blobs are people's audio.
func privateFiles() { syscall.Umask(0o077) }
