//go:build race

package policy

// raceSlowdown stretches the time bounds of tests that measure how fast a
// hostile policy is stopped: the race detector slows evaluation severalfold.
const raceSlowdown = 5
