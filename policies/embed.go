// Package policies holds sseaudit's built-in Rego (v1) policies, one file
// per rule family (package sseaudit.<family>), plus their unit tests
// (*_test.rego, runnable with stock `opa test policies/`).
//
// The rules themselves are listed in one place only: the # METADATA block
// before each deny or scan_deny rule (id, title, description, severity,
// category, resource type, remediation, control mappings). Package policy
// reads those blocks (Engine.Rules), and everything that lists rules (the
// rules command, reports, the README table) is derived from them; do not
// copy the list here. sseaudit.lib holds helpers and no rules.
//
// Rules named deny are evaluated once per bucket, rules named scan_deny once
// per scan; the input documents are described in package policy.
package policies

import "embed"

// FS holds the built-in policies (no tests). Every non-test .rego file of
// this directory must be listed here; a test checks it.
//
//go:embed lib.rego bucket_default.rego objects.rego keys.rego drift.rego coverage.rego access.rego public_objects.rego
var FS embed.FS

// TestFS holds the built-in policies' unit tests, for running them from a
// binary (they need FS's modules too).
//
//go:embed *_test.rego
var TestFS embed.FS
