// Package bench holds Koe's benchmarks that cross packages: the speech
// pipeline against one espeak-ng run, the time from createGeneration to the
// first progress event, and GraphQL read throughput against a static ceiling.
// They run only under -bench; see README.md and ../BENCHMARKS.md.
package bench
