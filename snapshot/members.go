package snapshot

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"time"
)

// checkMembers holds the JSON value raw to the members of Go type t by
// their exact names: encoding/json matches names without regard to case
// and ignores missing ones, so "ENCRYPTION" would fill Encryption and a
// dropped "encryption" would read as no rule. Every member must be one of
// t's json names, every member t always writes (no omitempty) must be
// there, null only where the Writer writes null (a pointer it always
// writes, such as a bucket's "encryption"; encoding/json would read any
// other null as the zero value, which the schema refuses), and nested
// records are checked the same way. what names the value in errors.
func checkMembers(raw []byte, t reflect.Type, what string) error {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch {
	case t == reflect.TypeFor[time.Time]():
		return nil
	case t.Kind() == reflect.Slice:
		if isNull(raw) {
			return nil
		}
		var items []json.RawMessage
		if err := json.Unmarshal(raw, &items); err != nil {
			return fmt.Errorf("%s: %v", what, err)
		}
		for i, it := range items {
			if isNull(it) && t.Elem().Kind() != reflect.Pointer {
				return fmt.Errorf("%s[%d]: null", what, i)
			}
			if err := checkMembers(it, t.Elem(), fmt.Sprintf("%s[%d]", what, i)); err != nil {
				return err
			}
		}
		return nil
	case t.Kind() != reflect.Struct:
		return nil
	}
	if isNull(raw) {
		return nil
	}
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		return fmt.Errorf("%s: %v", what, err)
	}
	fields := fieldsOf(t)
	for name := range members {
		if _, ok := fields[name]; !ok {
			return fmt.Errorf("%s: unknown member %q", what, name)
		}
	}
	for name, f := range fields {
		v, ok := members[name]
		if !ok {
			if f.required {
				return fmt.Errorf("%s: member %q is missing", what, name)
			}
			continue
		}
		if isNull(v) && !f.nullable {
			return fmt.Errorf("%s: member %q is null", what, name)
		}
		if err := checkMembers(v, f.typ, what+"."+name); err != nil {
			return err
		}
	}
	return nil
}

type memberField struct {
	typ      reflect.Type
	required bool
	nullable bool // the Writer may write null: a pointer always written
}

// fieldsOf maps t's json member names to their types and whether t always
// writes them.
func fieldsOf(t reflect.Type) map[string]memberField {
	out := map[string]memberField{}
	for i := range t.NumField() {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, flags, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if name == "" {
			name = f.Name
		}
		omit := strings.Contains(flags, "omitempty") || strings.Contains(flags, "omitzero")
		out[name] = memberField{typ: f.Type, required: !omit, nullable: !omit && f.Type.Kind() == reflect.Pointer}
	}
	return out
}

func isNull(raw []byte) bool { return strings.TrimSpace(string(raw)) == "null" }
