package voice

// ExpireCopies makes c's copies of the catalog expire at once, as if
// maxCopyAge had passed since each was read.
func ExpireCopies(c *Catalog) { c.maxCopyAge = 0 }
