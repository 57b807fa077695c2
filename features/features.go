// Package features holds the conformance suite's Gherkin feature files, one
// feature per server-side encryption behaviour, written for compliance
// readers. They are embedded so the sseaudit binary carries them; package
// steps defines what every step does.
//
// Tags:
//
//	@oss @s3                                    dialect (every scenario has exactly one)
//	@none @oss-managed @kms-default @kms-cmk    encryption methods the scenario uses
//	@kms                                        needs the KMS endpoint (key admin, resolving alias/acs/oss)
//	@emulator                                   needs the reference's admin hooks (bytes at rest,
//	                                            master key rotation, clock, other region, second principal)
//	@clock                                      moves the endpoint's clock (run alone when concurrent)
//	@rule-no-touch @rule-sse-header @rule-named-cmk
//	@rule-at-rest @rule-key-id-aes256 @rule-disabled-key
//	                                            the rule of the seed document the scenario's checks
//	                                            cover; each matches one deliberate fault of the
//	                                            reference (see package steps, RuleTag)
package features

import "embed"

// FS holds every *.feature file.
//
//go:embed *.feature
var FS embed.FS
