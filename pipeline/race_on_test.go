//go:build race

package pipeline

// raceEnabled: the race detector slows evaluation severalfold and skews
// heap measurements.
const raceEnabled = true
