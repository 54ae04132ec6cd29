package voice

// ExpireCopies makes c's copies of the catalog expire at once, as if
// maxCopyAge had passed since each was read.
func ExpireCopies(c *Catalog) { c.maxCopyAge = 0 }

// SetSample makes p's voices say sample(language) instead of the built-in
// samples.
func SetSample(p *Previews, sample func(language string) string) { p.sample = sample }
