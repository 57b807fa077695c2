//go:build race

package stream

// raceEnabled: under the race detector sync.Pool drops a quarter of what
// is put into it on purpose, so recycling cannot be measured.
const raceEnabled = true
