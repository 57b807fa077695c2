// Package check parses the deployment examples with the Kubernetes API
// types, strictly (an unknown or misspelt field is an error), and checks
// what the examples promise: sharded scans as an Indexed Job whose shards
// are retried alone, then a merge of exactly those shards.
package check

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"sigs.k8s.io/yaml"
)

// documents splits a multi-document YAML file.
func documents(t *testing.T, path string) [][]byte {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out [][]byte
	for _, d := range bytes.Split(raw, []byte("\n---\n")) {
		if len(bytes.TrimSpace(d)) > 0 {
			out = append(out, d)
		}
	}
	return out
}

func decode(t *testing.T, path string, doc []byte) any {
	t.Helper()
	var head struct{ Kind string }
	if err := yaml.Unmarshal(doc, &head); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	var v any
	switch head.Kind {
	case "Job":
		v = &batchv1.Job{}
	case "CronJob":
		v = &batchv1.CronJob{}
	case "PersistentVolumeClaim":
		v = &corev1.PersistentVolumeClaim{}
	case "Secret":
		v = &corev1.Secret{}
	default:
		t.Fatalf("%s: kind %q has no check", path, head.Kind)
	}
	if err := yaml.UnmarshalStrict(doc, v); err != nil {
		t.Fatalf("%s: %s: %v", path, head.Kind, err)
	}
	return v
}

func TestManifestsParse(t *testing.T) {
	files, _ := filepath.Glob("../kubernetes/*.yaml")
	if len(files) < 2 {
		t.Fatalf("manifests: %v", files)
	}
	for _, f := range files {
		for _, d := range documents(t, f) {
			decode(t, f, d)
		}
	}
}

func TestShardedScan(t *testing.T) {
	path := "../kubernetes/sharded-scan.yaml"
	var shards, merge *batchv1.Job
	for _, d := range documents(t, path) {
		if j, ok := decode(t, path, d).(*batchv1.Job); ok {
			switch j.Name {
			case "sseaudit-shards":
				shards = j
			case "sseaudit-merge":
				merge = j
			}
		}
	}
	if shards == nil || merge == nil {
		t.Fatal("want the Jobs sseaudit-shards and sseaudit-merge")
	}
	s := shards.Spec
	if s.CompletionMode == nil || *s.CompletionMode != batchv1.IndexedCompletion || s.Completions == nil || s.BackoffLimitPerIndex == nil {
		t.Fatalf("the shard Job is not an Indexed Job retrying per index: %+v", s)
	}
	n := int(*s.Completions)
	args := strings.Join(s.Template.Spec.Containers[0].Args, " ")
	if !strings.Contains(args, fmt.Sprintf("--shard=$(JOB_COMPLETION_INDEX)/%d", n)) {
		t.Errorf("shard args %q do not shard %d ways by the completion index", args, n)
	}
	margs := strings.Join(merge.Spec.Template.Spec.InitContainers[0].Args, " ")
	for i := range n {
		if !strings.Contains(margs, fmt.Sprintf("/shards/%d", i)) {
			t.Errorf("the merge does not name shard %d: %q", i, margs)
		}
	}
	for _, j := range []*batchv1.Job{shards, merge} {
		ps := j.Spec.Template.Spec
		if ps.SecurityContext == nil || ps.SecurityContext.RunAsNonRoot == nil || !*ps.SecurityContext.RunAsNonRoot {
			t.Errorf("%s runs as root", j.Name)
		}
	}
}

func TestDockerfile(t *testing.T) {
	raw, err := os.ReadFile("../../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	d := string(raw)
	for _, want := range []string{"AS build", "CGO_ENABLED=0", "-X main.version=", "USER 65532", "nonroot", "./cmd/sseaudit"} {
		if !strings.Contains(d, want) {
			t.Errorf("the Dockerfile lacks %q (multi-stage, static, stamped, non-root)", want)
		}
	}
	if strings.Count(d, "\nFROM ") < 1 || !strings.HasPrefix(strings.TrimSpace(d[strings.Index(d, "FROM"):]), "FROM golang:") {
		t.Error("the Dockerfile does not build in a golang stage")
	}
}
