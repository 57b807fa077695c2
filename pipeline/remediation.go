package pipeline

// Files a remediation run adds to its report set ('sseaudit remediate
// apply' with a re-scan, through Options.Attach): they are signed with the
// rest and a directory holding them is a report directory.
const (
	RemediationFile         = "remediation.json"
	RemediationMarkdownFile = "remediation.md"
)
