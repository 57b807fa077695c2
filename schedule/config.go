// Package schedule runs sseaudit scans on a schedule: configuration, a run
// store, the scheduler, deltas between consecutive runs, webhook
// notifications and Prometheus metrics.
package schedule

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	yaml "go.yaml.in/yaml/v3"

	"github.com/sseaudit/sseaudit/findings"
)

// Config is a schedule configuration file.
type Config struct {
	// DB is the history database; runs are stored next to it (DB + ".runs").
	DB        string    `yaml:"db"`
	Listen    string    `yaml:"listen"`
	Retention Retention `yaml:"retention"`
	// SigningKey, when set, is the Ed25519 key every run's report set is
	// signed with (created 0600 if missing); runs then form a chain.
	SigningKey string `yaml:"signing_key"`
	Jobs       []Job  `yaml:"jobs"`
}

// Retention bounds the runs kept per job (0 = unlimited).
type Retention struct {
	KeepRuns int `yaml:"keep_runs"`
	KeepDays int `yaml:"keep_days"`
}

// Job is one scheduled scan.
type Job struct {
	Name         string   `yaml:"name"`
	Target       Target   `yaml:"target"`
	Buckets      string   `yaml:"buckets"`
	Policies     []string `yaml:"policies"`
	PolicyConfig string   `yaml:"policy_config"`
	Profile      string   `yaml:"profile"`
	Waivers      string   `yaml:"waivers"`
	// Versions inspects every version of versioned buckets (scan --versions).
	Versions bool `yaml:"versions"`
	// FailOn is the severity gate of each run, as scan --fail-on (default
	// high); AcceptGaps the coverage gaps that do not fail it.
	FailOn     string   `yaml:"fail_on"`
	AcceptGaps []string `yaml:"accept_gaps"`
	// AllowBroadWaivers and AllowPermanentWaivers accept waivers matching
	// everything or never expiring, as scan --allow-broad-waivers and
	// --allow-permanent-waivers.
	AllowBroadWaivers     bool     `yaml:"allow_broad_waivers"`
	AllowPermanentWaivers bool     `yaml:"allow_permanent_waivers"`
	Output                string   `yaml:"output"`
	Schedule              string   `yaml:"schedule"`
	TimeZone              string   `yaml:"time_zone"`
	Webhook               *Webhook `yaml:"webhook"`

	sched cron.Schedule
	loc   *time.Location
}

// Target says what a job scans; credentials are named by environment
// variable, never written in the file.
type Target struct {
	Endpoint           string `yaml:"endpoint"`
	Dialect            string `yaml:"dialect"`
	Region             string `yaml:"region"`
	AccessKeyIDEnv     string `yaml:"access_key_id_env"`
	AccessKeySecretEnv string `yaml:"access_key_secret_env"`
	KMSEndpoint        string `yaml:"kms_endpoint"`
	KMSAccessKeyIDEnv  string `yaml:"kms_access_key_id_env"`
	KMSSecretEnv       string `yaml:"kms_access_key_secret_env"`
}

// Webhook is a job's notification endpoint.
type Webhook struct {
	URL     string        `yaml:"url"`
	Timeout time.Duration `yaml:"timeout"`
	Retries int           `yaml:"retries"`
}

// Next is the job's next fire time strictly after t.
func (j *Job) Next(t time.Time) time.Time { return j.sched.Next(t.In(j.loc)) }

// Location is the job's time zone.
func (j *Job) Location() *time.Location { return j.loc }

var jobName = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// LoadConfig reads and validates the file at path. getenv checks that the
// credential variables are set (nil: os.Getenv).
func LoadConfig(path string, getenv func(string) string) (*Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("config: %w", err)
	}
	c, err := ParseConfig(b, getenv)
	if err != nil {
		return nil, fmt.Errorf("config %s: %w", path, err)
	}
	return c, nil
}

// ParseConfig parses strict YAML (unknown fields are errors) and validates
// every job; errors name the job and the field.
func ParseConfig(b []byte, getenv func(string) string) (*Config, error) {
	if getenv == nil {
		getenv = os.Getenv
	}
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	var c Config
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if len(c.Jobs) == 0 {
		return nil, errors.New("jobs: at least one job is needed")
	}
	if c.Retention.KeepRuns < 0 || c.Retention.KeepDays < 0 {
		return nil, errors.New("retention: keep_runs and keep_days must not be negative")
	}
	seen := map[string]bool{}
	for i := range c.Jobs {
		j := &c.Jobs[i]
		if !jobName.MatchString(j.Name) {
			return nil, fmt.Errorf("jobs[%d].name: %q: use letters, digits, '.', '_' and '-'", i, j.Name)
		}
		if seen[j.Name] {
			return nil, fmt.Errorf("job %s: name: duplicate job name", j.Name)
		}
		seen[j.Name] = true
		if err := j.validate(getenv); err != nil {
			return nil, fmt.Errorf("job %s: %w", j.Name, err)
		}
	}
	return &c, nil
}

func (j *Job) validate(getenv func(string) string) error {
	if j.Schedule == "" {
		return errors.New("schedule: missing (a cron expression or @every 6h)")
	}
	s, err := cron.ParseStandard(j.Schedule)
	if err != nil {
		return fmt.Errorf("schedule: %q: %w", j.Schedule, err)
	}
	j.sched = s
	j.loc = time.UTC
	if j.TimeZone != "" {
		if j.loc, err = time.LoadLocation(j.TimeZone); err != nil {
			return fmt.Errorf("time_zone: %w", err)
		}
	}
	if j.FailOn == "" {
		j.FailOn = "high"
	}
	if _, err := findings.FailOnSeverity(j.FailOn); err != nil {
		return fmt.Errorf("fail_on: %q: use critical, high, medium, low, info or none", j.FailOn)
	}
	for _, g := range j.AcceptGaps {
		if !slices.Contains(findings.GapKinds, g) {
			return fmt.Errorf("accept_gaps: %q: use one or more of %s", g, strings.Join(findings.GapKinds, ", "))
		}
	}
	if j.Output == "" {
		return errors.New("output: missing (directory for the reports of each run)")
	}
	t := j.Target
	if t.Endpoint != "" {
		if t.Dialect != "oss" && t.Dialect != "s3" {
			return fmt.Errorf("target.dialect: %q: use oss or s3", t.Dialect)
		}
		for _, v := range [][2]string{{"target.access_key_id_env", t.AccessKeyIDEnv}, {"target.access_key_secret_env", t.AccessKeySecretEnv}} {
			if v[1] == "" {
				return fmt.Errorf("%s: missing (the name of the environment variable holding it)", v[0])
			}
			if getenv(v[1]) == "" {
				return fmt.Errorf("%s: environment variable %s is not set", v[0], v[1])
			}
		}
		if t.KMSEndpoint != "" {
			for _, v := range [][2]string{{"target.kms_access_key_id_env", t.KMSAccessKeyIDEnv}, {"target.kms_access_key_secret_env", t.KMSSecretEnv}} {
				if v[1] == "" || getenv(v[1]) == "" {
					return fmt.Errorf("%s: environment variable %q is not set", v[0], v[1])
				}
			}
		}
	} else if t.Dialect != "" || t.KMSEndpoint != "" {
		return errors.New("target.endpoint: missing (dialect and kms_endpoint need it; no target scans the embedded demo estate)")
	}
	if w := j.Webhook; w != nil {
		if w.URL == "" {
			return errors.New("webhook.url: missing")
		}
		if w.Retries < 0 {
			return errors.New("webhook.retries: must not be negative")
		}
	}
	return nil
}
