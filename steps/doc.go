// Package steps runs the conformance suite: the Gherkin features of package
// features, executed with godog against any endpoint package client can talk
// to (the embedded reference, a real Alibaba Cloud OSS or S3 account), with
// the KMS endpoint of package kmsclient and, for the reference, its admin
// hooks.
//
// # Running
//
// Run takes Options (targets per dialect, the KMS endpoint, the emulator's
// admin hooks, a godog tag expression, report formats) and returns a Result
// with every scenario's status and steps. It is strict: a failed, undefined
// or pending step makes ExitCode non-zero, and a run in which no scenario
// ran at all is an error (a tag expression that selects nothing must not
// pass silently). Reference starts the embedded reference implementation and
// returns Options that exercise everything.
//
// # Skips
//
// A scenario whose dialect has no target, that is tagged @kms without
// Options.KMS, or @emulator without Options.Emulator is skipped, and the
// reason is recorded in its ScenarioResult.Error and printed in the summary
// Run writes after godog's own output. Tags select; skips apply on top.
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
