//go:build !unix

package main

// privateFiles does nothing where there is no umask; the store still makes
// the database and blob folders private itself.
func privateFiles() {}
