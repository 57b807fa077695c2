//go:build !race

package policy

const raceSlowdown = 1
