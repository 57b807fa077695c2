// Package policies holds sseaudit's built-in Rego (v1) policies, one file
// per rule family, each rule with a # METADATA block, plus their unit tests
// (*_test.rego, runnable with stock `opa test policies/`).
//
// Rule families (packages):
//
//	sseaudit.lib             helpers, no rules
//	sseaudit.bucket_default  SSE-001..003: the bucket's default encryption rule
//	sseaudit.objects         SSE-004..006: each object's encryption and key
//	sseaudit.drift           SSE-007: existing objects across a change of default
//	sseaudit.coverage        SSE-008..010: what the scan could not read
//
// Rules named deny are evaluated once per bucket, rules named scan_deny once
// per scan; the input documents are described in package policy.
package policies

import "embed"

// FS holds the built-in policies (no tests). Every non-test .rego file of
// this directory must be listed here; a test checks it.
//
//go:embed lib.rego bucket_default.rego objects.rego drift.rego coverage.rego
var FS embed.FS

// TestFS holds the built-in policies' unit tests, for running them from a
// binary (they need FS's modules too).
//
//go:embed *_test.rego
var TestFS embed.FS
