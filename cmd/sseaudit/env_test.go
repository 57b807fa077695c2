package main

import (
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/sseaudit/sseaudit/embedded"
)

// TestRootKeyVariableNotInherited: the root key variable is read once and
// taken out of the process environment, so a child process never sees it,
// while the reference (through env.getenv) still does.
func TestRootKeyVariableNotInherited(t *testing.T) {
	const key = "c2VjcmV0LWtleS1tYXRlcmlhbC0zMi1ieXRlcy1sb25nIQ=="
	t.Setenv(embedded.EnvRootKey, key)
	t.Setenv("SSEAUDIT_OTHER_VAR", "kept")
	e := processEnv()
	if v, ok := os.LookupEnv(embedded.EnvRootKey); ok {
		t.Fatalf("%s still in the process environment (%d bytes)", embedded.EnvRootKey, len(v))
	}
	if got := e.getenv(embedded.EnvRootKey); got != key {
		t.Errorf("getenv(%s) lost the key", embedded.EnvRootKey)
	}
	if v, ok := e.lookup(embedded.EnvRootKey); !ok || v != key {
		t.Errorf("lookup(%s) lost the key", embedded.EnvRootKey)
	}
	if e.getenv("SSEAUDIT_OTHER_VAR") != "kept" {
		t.Error("other variables are not read through")
	}
	out, err := exec.Command("env").Output()
	if err != nil {
		t.Skipf("no env(1): %v", err)
	}
	if strings.Contains(string(out), embedded.EnvRootKey) || strings.Contains(string(out), key) {
		t.Errorf("a child process inherited the root key variable")
	}
	if !strings.Contains(string(out), "SSEAUDIT_OTHER_VAR=kept") {
		t.Error("the child's environment is not the process's (test is broken)")
	}
}
