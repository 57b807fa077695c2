// Package steps runs the conformance suite: the Gherkin features of package
// features, executed with godog against any endpoint package client can talk
// to (the embedded reference, a real Alibaba Cloud OSS or S3 account), with
// the KMS endpoint of package kmsclient (Alibaba Cloud KMS) or of package
// kmsclient/awskms (AWS KMS, which S3 scenarios use when Options.AWSKMS is
// set) and, for the reference, its admin hooks.
//
// # Running
//
// Run takes Options (targets per dialect, the KMS endpoint, the emulator's
// admin hooks, a godog tag expression, report formats) and returns a Result
// with every selected scenario's status (passed, failed or skipped, with
// the reason) and steps. It is strict: a failed, undefined or pending step
// fails the scenario and makes ExitCode 1. A run that cannot happen is an
// error with ExitCode 2: bad options or tags, no scenario selected, an
// endpoint that cannot be reached or refuses the credentials (each endpoint
// is asked one harmless question first), or every selected scenario
// skipped. Reference starts the embedded reference implementation and
// returns Options that exercise everything.
//
// # Selection, not applicable, skips
//
// The tags are registered in package features (features.Tags). The user's
// tag expression selects; it is restricted before godog runs to the
// dialects that have a target, so godog's own counts are the run's. What
// the expression matched in another dialect is not applicable: counted in
// Result.NotApplicable with the reason, not selected, never skipped. A
// selected scenario tagged with a capability the run lacks (@kms without
// Options.KMS or Options.AWSKMS, @emulator without Options.Emulator) is skipped with the
// registry's reason; @versioning scenarios are skipped when the endpoint
// answers 501 to PutBucketVersioning. A dry run selects and gives reasons
// exactly as a real run does.
//
// # Summary
//
// godog's own summary calls a scenario skipped by a hook or a step
// "passed", so the pretty and progress formats here are godog's wrapped,
// with the scenario line recounted with skipped as skipped. Run then
// writes its summary (WriteSummary): the same counts, the not applicable
// count, and every scenario that did not pass with the reason.
//
// # Scenarios
//
// Each scenario has its own state (a *world in its context.Context): the
// dialect from its @oss/@s3 tag, the client, the buckets it created (named
// BucketPrefix + run id + counter), the objects it uploaded with their
// bytes and the responses seen, and the KMS keys it created. An After hook
// removes its objects and buckets and schedules its keys for deletion (7
// days, the minimum), whether the scenario passed or not. Steps judge only
// what the endpoints answer (status, error code, headers, bytes) through
// package client and the KMS SDK; the reference's internals are reached only
// through Options.Emulator in @emulator scenarios.
//
// Encryption methods in the features are "none", "OSS-managed" (AES256),
// "KMS default key" (KMS without a key id: alias/acs/oss, whose real key id
// is resolved through KMS DescribeKey) and "KMS named key" (KMS with a CMK
// created for the scenario through the KMS SDK).
//
// # Rules and faults
//
// RuleTag maps each deliberate fault of the reference (package faults) to the
// tag of the scenarios whose checks cover the rule that fault breaks; the
// package test starts the reference with each fault and checks that the
// suite fails, and fails only in scenarios with that tag.
package steps
