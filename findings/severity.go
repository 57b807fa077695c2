package findings

import (
	"fmt"
	"strings"
)

// Severity orders findings from Info (lowest) to Critical (highest). The
// zero value is invalid; it marshals as "" and never satisfies AtLeast.
type Severity int

// Severities, in ascending order.
const (
	SeverityInfo Severity = iota + 1
	SeverityLow
	SeverityMedium
	SeverityHigh
	SeverityCritical
)

// Severities lists every valid severity in ascending order.
var Severities = []Severity{SeverityInfo, SeverityLow, SeverityMedium, SeverityHigh, SeverityCritical}

var severityNames = [...]string{"", "info", "low", "medium", "high", "critical"}

// String returns the lower-case name ("critical", ..., "info"); "" when invalid.
func (s Severity) String() string {
	if s < SeverityInfo || s > SeverityCritical {
		return ""
	}
	return severityNames[s]
}

// Valid reports whether s is one of the five severities.
func (s Severity) Valid() bool { return s >= SeverityInfo && s <= SeverityCritical }

// AtLeast reports whether s is valid and at or above min.
func (s Severity) AtLeast(min Severity) bool { return s.Valid() && s >= min }

// ParseSeverity parses a severity name, case-insensitively. "informational"
// is accepted for info (Prowler's spelling).
func ParseSeverity(name string) (Severity, error) {
	n := strings.ToLower(strings.TrimSpace(name))
	if n == "informational" {
		return SeverityInfo, nil
	}
	for i := SeverityInfo; i <= SeverityCritical; i++ {
		if severityNames[i] == n {
			return i, nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q (want critical, high, medium, low or info)", name)
}

// MarshalText implements encoding.TextMarshaler.
func (s Severity) MarshalText() ([]byte, error) {
	if !s.Valid() {
		return nil, fmt.Errorf("invalid severity %d", int(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText implements encoding.TextUnmarshaler.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// FailOnSeverity parses a --fail-on value: a severity name, or "none"/""
// meaning never fail (returned as 0, which nothing is AtLeast).
func FailOnSeverity(name string) (Severity, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "", "none", "never":
		return 0, nil
	}
	return ParseSeverity(name)
}

// Failing counts the findings that should fail a run with --fail-on min:
// those not suppressed whose severity is at or above min. It is 0 when min
// is 0 ("none").
func Failing(fs []Finding, min Severity) int {
	if !min.Valid() {
		return 0
	}
	n := 0
	for i := range fs {
		if !fs[i].Suppressed && fs[i].Severity.AtLeast(min) {
			n++
		}
	}
	return n
}
