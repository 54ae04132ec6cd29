// Package bench holds Koe's benchmarks that cross packages: the speech
// pipeline against one espeak-ng run, the time from createGeneration to the
// first progress event (alone and under a steady arrival rate), each speech
// engine end to end beside the engine's program alone, GraphQL read
// throughput against a static ceiling, and websocket subscriptions held and
// fed by one server process. They run only under -bench; see README.md and
// ../BENCHMARKS.md.
package bench
