package kmshttp

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	kmssdk "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/sseaudit/sseaudit/kmsclient"
	"github.com/sseaudit/sseaudit/reference/auth"
	"github.com/sseaudit/sseaudit/reference/kms"
)

// principalGroups is a kms.Authorizer granting each principal whole
// action groups on every key (the real one is users.Set, tested with the
// server).
type principalGroups map[string][]string

func (g principalGroups) AuthorizeKMS(principal, action string, _ kms.Resource) bool {
	for _, grp := range g[principal] {
		if grp == kms.ActionGroup(action) {
			return true
		}
	}
	return false
}

// TestAuthorizationThroughTheSDK: the endpoint passes the authenticated
// principal to the emulator's Authorizer; a refusal reaches the official
// SDK, in both signature modes, as 403 Forbidden.NoPermission with a
// request id, and is logged with the principal and code.
func TestAuthorizationThroughTheSDK(t *testing.T) {
	emu, err := kms.New(kms.Config{Authorizer: principalGroups{"root": {kms.GroupUse, kms.GroupRead, kms.GroupManage}, "bob": {kms.GroupRead}}})
	if err != nil {
		t.Fatal(err)
	}
	root := auth.Credential{AccessKeyID: "ROOTKEYID", AccessKeySecret: "root-secret-0123456789", Principal: "root"}
	bob := auth.Credential{AccessKeyID: "BOBKEYID", AccessKeySecret: "bob-secret-0123456789", Principal: "bob"}
	store, err := auth.NewStore(root, bob)
	if err != nil {
		t.Fatal(err)
	}
	logs := &syncBuffer{}
	h, err := NewHandler(Config{Emulator: emu, Region: testRegion, Credentials: store, Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()
	for _, mode := range sdkModes {
		t.Run(mode.name, func(t *testing.T) {
			rc, err := kmsclient.New(srv.URL, testRegion, root.AccessKeyID, root.AccessKeySecret, mode.opts...)
			if err != nil {
				t.Fatal(err)
			}
			bc, err := kmsclient.New(srv.URL, testRegion, bob.AccessKeyID, bob.AccessKeySecret, mode.opts...)
			if err != nil {
				t.Fatal(err)
			}
			ck, err := rc.CreateKey(&kmssdk.CreateKeyRequest{})
			if err != nil {
				t.Fatal(err)
			}
			id := ck.Body.KeyMetadata.KeyId
			if _, err := bc.DescribeKey(&kmssdk.DescribeKeyRequest{KeyId: id}); err != nil {
				t.Fatalf("bob may read: %v", err)
			}
			_, err = bc.GenerateDataKey(&kmssdk.GenerateDataKeyRequest{KeyId: id})
			wantSDKError(t, err, http.StatusForbidden, kms.CodeAccessDenied)
			if se, ok := err.(*tea.SDKError); !ok || !strings.Contains(tea.StringValue(se.Data), `"RequestId"`) {
				t.Fatalf("the refusal carries no RequestId: %v", err)
			}
			_, err = bc.DisableKey(&kmssdk.DisableKeyRequest{KeyId: id})
			wantSDKError(t, err, http.StatusForbidden, kms.CodeAccessDenied)
		})
	}
	if !strings.Contains(logs.String(), `"principal":"bob"`) || !strings.Contains(logs.String(), `"code":"Forbidden.NoPermission"`) {
		t.Fatalf("the refusal is not logged with its principal and code:\n%s", logs.String())
	}
}
