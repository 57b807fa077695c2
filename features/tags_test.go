package features

import (
	"bufio"
	"io/fs"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
)

// usedTags returns every tag the feature files use, with the places
// ("file:line") it appears. Tag lines are the lines that start with "@"
// outside doc strings; a "#" starts a comment.
func usedTags(t *testing.T, fsys fs.FS) map[string][]string {
	t.Helper()
	files, err := fs.Glob(fsys, "*.feature")
	if err != nil || len(files) == 0 {
		t.Fatalf("no feature files: %v", err)
	}
	used := map[string][]string{}
	for _, f := range files {
		fh, err := fsys.Open(f)
		if err != nil {
			t.Fatal(err)
		}
		sc := bufio.NewScanner(fh)
		inDoc := ""
		for n := 1; sc.Scan(); n++ {
			line := strings.TrimSpace(sc.Text())
			if inDoc != "" {
				if strings.HasPrefix(line, inDoc) {
					inDoc = ""
				}
				continue
			}
			if strings.HasPrefix(line, `"""`) || strings.HasPrefix(line, "```") {
				inDoc = line[:3]
				continue
			}
			if !strings.HasPrefix(line, "@") {
				continue
			}
			line, _, _ = strings.Cut(line, "#")
			for _, tag := range strings.Fields(line) {
				used[tag] = append(used[tag], f+":"+strconv.Itoa(n))
			}
		}
		fh.Close()
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
	}
	return used
}

// TestEveryTagIsRegistered: the feature files use exactly the registered
// tags, so the README's table (generated from the registry) and the code
// that skips or maps tags cannot drift from the files.
func TestEveryTagIsRegistered(t *testing.T) {
	used := usedTags(t, FS)
	for tag, where := range used {
		if _, ok := LookupTag(tag); !ok {
			t.Errorf("tag %s is used (%s) but not registered in tags.go", tag, strings.Join(where, ", "))
		}
	}
	for _, tag := range Tags() {
		if len(used[tag.Name]) == 0 {
			t.Errorf("tag %s is registered but no feature file uses it", tag.Name)
		}
	}
}

// TestRegistryIsWellFormed checks what the rest of the code relies on:
// names are unique tags, every tag says what it means, capability tags say
// why they skip, dialect tags when they do not apply, rule tags which fault
// breaks their rule (each fault once), and nothing else claims either.
func TestRegistryIsWellFormed(t *testing.T) {
	seen := map[string]bool{}
	faults := map[string]string{}
	kinds := []Kind{KindDialect, KindMethod, KindCapability, KindScheduling, KindRule}
	for _, tag := range Tags() {
		if !strings.HasPrefix(tag.Name, "@") || strings.ContainsAny(tag.Name[1:], " \t@~,&") || len(tag.Name) < 2 {
			t.Errorf("%q is not a tag name", tag.Name)
		}
		if seen[tag.Name] {
			t.Errorf("%s is registered twice", tag.Name)
		}
		seen[tag.Name] = true
		if !slices.Contains(kinds, tag.Kind) {
			t.Errorf("%s: unknown kind %q", tag.Name, tag.Kind)
		}
		if tag.Meaning == "" {
			t.Errorf("%s has no meaning", tag.Name)
		}
		if (tag.Kind == KindCapability) != (tag.Skip != "") {
			t.Errorf("%s (%s): Skip %q; only and every capability tag has a skip reason", tag.Name, tag.Kind, tag.Skip)
		}
		if tag.RunTime && tag.Skip == "" {
			t.Errorf("%s: RunTime without a skip reason", tag.Name)
		}
		if (tag.Kind == KindDialect) != (tag.NotApplicable != "") {
			t.Errorf("%s (%s): NotApplicable %q; only and every dialect tag has one", tag.Name, tag.Kind, tag.NotApplicable)
		}
		if (tag.Kind == KindRule) != (tag.Fault != "") {
			t.Errorf("%s (%s): Fault %q; only and every rule tag names a fault", tag.Name, tag.Kind, tag.Fault)
		}
		if tag.Fault != "" {
			if other, dup := faults[tag.Fault]; dup {
				t.Errorf("fault %s is claimed by %s and %s", tag.Fault, other, tag.Name)
			}
			faults[tag.Fault] = tag.Name
			if got, ok := RuleTagOfFault(tag.Fault); !ok || got.Name != tag.Name {
				t.Errorf("RuleTagOfFault(%s) = %v, %v; want %s", tag.Fault, got.Name, ok, tag.Name)
			}
		}
		for _, f := range tag.AlsoFaults {
			if got, ok := RuleTagOfFault(f); !ok || got.Name != tag.Name {
				t.Errorf("RuleTagOfFault(%s) = %v, %v; want %s", f, got.Name, ok, tag.Name)
			}
		}
		if got, ok := LookupTag(tag.Name); !ok || !reflect.DeepEqual(got, tag) {
			t.Errorf("LookupTag(%s) = %+v, %v", tag.Name, got, ok)
		}
	}
	if _, ok := LookupTag("@no-such-tag"); ok {
		t.Error("LookupTag found an unregistered tag")
	}
	if _, ok := RuleTagOfFault("no-such-fault"); ok {
		t.Error("RuleTagOfFault found an unknown fault")
	}
	if d := TagsOfKind(KindDialect); len(d) != 2 {
		t.Errorf("%d dialect tags, want 2 (oss, s3)", len(d))
	}
	// Tags hands out a copy: changing it must not change the registry.
	tags := Tags()
	tags[0].Name = "@changed"
	if Tags()[0].Name == "@changed" {
		t.Error("Tags returns the registry itself")
	}
}

// TestTagScanner checks the test's own reader of tag lines on a crafted
// file, so a pass of TestEveryTagIsRegistered means something.
func TestTagScanner(t *testing.T) {
	fsys := fstest.MapFS{"a.feature": {Data: []byte(`@kms
Feature: x
  @oss @rule-at-rest # a comment @not-a-tag
  Scenario: y
    Given a doc string:
      """
      @inside-a-doc-string
      """
    @s3
    Examples: z
`)}}
	got := usedTags(t, fsys)
	var names []string
	for n := range got {
		names = append(names, n)
	}
	slices.Sort(names)
	want := []string{"@kms", "@oss", "@rule-at-rest", "@s3"}
	if !slices.Equal(names, want) {
		t.Fatalf("tags %v, want %v", names, want)
	}
	if w := got["@s3"]; len(w) != 1 || w[0] != "a.feature:9" {
		t.Errorf("@s3 at %v, want a.feature:9", w)
	}
}
