//go:build race

package objstore

// raceEnabled: the test binary runs under the race detector, which also
// turns on checkptr.
const raceEnabled = true
