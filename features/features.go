// Package features holds the conformance suite's Gherkin feature files, one
// feature per server-side encryption behaviour, written for compliance
// readers. They are embedded so the sseaudit binary carries them; package
// steps defines what every step does.
//
// Every tag the feature files use is registered once, with its meaning and
// what skips a scenario carrying it, in tags.go (Tags, LookupTag); a test
// checks that the files use exactly the registered tags, and the README's
// tag table can be generated from the registry.
package features

import "embed"

// FS holds every *.feature file.
//
//go:embed *.feature
var FS embed.FS
