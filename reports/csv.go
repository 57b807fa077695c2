package reports

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/sseaudit/sseaudit/findings"
)

// CSVHeader is the header row of findings.csv.
var CSVHeader = []string{
	"id", "rule", "title", "severity", "status", "suppressed", "category",
	"resource_type", "resource_uid", "bucket", "key", "version_id", "region", "kms_key_id",
	"message", "remediation", "remediation_cli", "controls",
	"waiver_reason", "waiver_owner", "waiver_ticket", "waiver_expires", "waiver_state",
	"first_seen", "last_seen",
	"objects", "objects_open", "objects_suppressed", "bytes", "oldest_last_modified", "newest_last_modified",
	"sample_keys", "affected_file",
}

// CSV writes one RFC 4180 row per finding (suppressed ones included, with
// suppressed=true and the waiver), after CSVHeader. kms_key_id is the key
// the finding is about or names (KeyID: for a bucket default's or an
// object's key, the one the rule observed). Controls are joined as
// "framework version:id;framework version:id"; times are RFC 3339 UTC. An
// aggregated finding fills the last columns: its objects (open and
// waived), their bytes and dates, its sample's keys as a JSON array and
// the side file listing every object; they are empty for other findings.
//
// Spreadsheet formula injection: object keys and messages come from the
// scanned estate. A cell beginning with = + - @ tab, CR or ' is written with
// a leading ' (OWASP's mitigation); UnescapeCSVCell removes it again.
func CSV(w io.Writer, m *Model) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(CSVHeader); err != nil {
		return err
	}
	err := modelDoc(m).Each(func(f *findings.Finding) error {
		if err := cw.Write(csvRow(f)); err != nil {
			return fmt.Errorf("reports: csv: %w", err)
		}
		return nil
	})
	if err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

func csvRow(f *findings.Finding) []string {
	var wr, wo, wt, we, ws string
	if w := f.Waiver; w != nil {
		wr, wo, wt, we, ws = w.Reason, w.Owner, w.Ticket, w.Expires, w.State
	}
	row := []string{
		f.ID, f.Rule, f.Title, severityName(f.Severity), f.Status, fmt.Sprint(f.Suppressed), f.Category,
		f.Resource.Type, f.Resource.UID, f.Resource.Bucket, f.Resource.Key, f.Resource.VersionID,
		f.Resource.Region, KeyID(f),
		f.Message, f.Remediation.Text, f.Remediation.CLI, strings.Join(controlStrings(f.Controls), ";"),
		wr, wo, wt, we, ws,
		rfc3339(f.FirstSeen), rfc3339(f.LastSeen),
		"", "", "", "", "", "", "", "",
	}
	if a := f.Aggregate; a != nil {
		keys := make([]string, len(a.Sample))
		for i, o := range a.Sample {
			keys[i] = o.Key
		}
		kj, _ := json.Marshal(keys)
		copy(row[len(row)-8:], []string{
			fmt.Sprint(a.Objects), fmt.Sprint(a.Open), fmt.Sprint(a.Suppressed), fmt.Sprint(a.Bytes),
			rfc3339(a.OldestLastModified), rfc3339(a.NewestLastModified), string(kj), a.File,
		})
	}
	for i := range row {
		row[i] = EscapeCSVCell(row[i])
	}
	return row
}

// EscapeCSVCell prefixes s with ' when a spreadsheet could take it for a
// formula (or when it already starts with ', so the escape is reversible).
func EscapeCSVCell(s string) string {
	if s == "" {
		return s
	}
	switch s[0] {
	case '=', '+', '-', '@', '\t', '\r', '\'':
		return "'" + s
	}
	return s
}

// UnescapeCSVCell reverses EscapeCSVCell.
func UnescapeCSVCell(s string) string {
	return strings.TrimPrefix(s, "'")
}
