// Package estate seeds the embedded reference with a realistic demo estate
// for scans, tests and the demo: one bucket per way encryption can be (or
// fail to be) set up, each with objects. It must not be pointed at a real
// account: it only takes an in-process reference server.
package estate

import (
	"bytes"
	"context"
	"fmt"

	kmssdk "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"

	"github.com/sseaudit/sseaudit/client"
	"github.com/sseaudit/sseaudit/embedded"
)

// Bucket names of the demo estate.
const (
	Unencrypted  = "demo-unencrypted"   // no default, unencrypted objects
	OSSManaged   = "demo-oss-managed"   // AES256 default
	KMSDefault   = "demo-kms-default"   // KMS with alias/acs/oss
	KMSCMK       = "demo-kms-cmk"       // KMS with a customer CMK
	DisabledCMK  = "demo-disabled-cmk"  // KMS with a CMK that is now disabled
	DefaultLater = "demo-default-later" // objects written before an AES256 default was set
)

// Estate is what Seed created.
type Estate struct {
	Buckets     []string
	CMK         string // the customer CMK of KMSCMK
	DisabledCMK string // the CMK of DisabledCMK, now Disabled
}

// Seed creates the demo estate in srv through its OSS endpoint and KMS
// endpoint, as the root principal.
func Seed(ctx context.Context, srv *embedded.Reference) (Estate, error) {
	c, err := client.New(client.Config{Dialect: client.OSS, Endpoint: srv.Endpoint, Region: srv.Region,
		AccessKeyID: srv.AccessKeyID, AccessKeySecret: srv.AccessKeySecret})
	if err != nil {
		return Estate{}, err
	}
	k, err := client.KMS(client.KMSConfig{Endpoint: srv.KMSEndpoint, Region: srv.Region,
		AccessKeyID: srv.AccessKeyID, AccessKeySecret: srv.AccessKeySecret})
	if err != nil {
		return Estate{}, err
	}
	var e Estate
	newKey := func(desc string) (string, error) {
		// Customer CMKs rotate yearly, as the profiles require (SSE-015).
		out, err := k.CreateKey(&kmssdk.CreateKeyRequest{Description: tea.String(desc),
			EnableAutomaticRotation: tea.Bool(true), RotationInterval: tea.String("365d")})
		if err != nil {
			return "", fmt.Errorf("create key: %w", err)
		}
		return tea.StringValue(out.Body.KeyMetadata.KeyId), nil
	}
	if e.CMK, err = newKey("demo customer CMK"); err != nil {
		return e, err
	}
	if e.DisabledCMK, err = newKey("demo CMK that gets disabled"); err != nil {
		return e, err
	}
	put := func(bucket, key string, sse *client.SSE) error {
		body := bytes.Repeat([]byte(bucket+"/"+key+"\n"), 64)
		_, err := c.PutObject(ctx, bucket, key, bytes.NewReader(body), int64(len(body)), client.PutOptions{SSE: sse})
		if err != nil {
			return fmt.Errorf("put %s/%s: %w", bucket, key, err)
		}
		return nil
	}
	steps := []struct {
		bucket string
		rule   *client.SSE
		keys   []string
	}{
		{Unencrypted, nil, []string{"report-2025.csv", "invoices/march.pdf"}},
		{OSSManaged, &client.SSE{Algorithm: client.AlgorithmAES256}, []string{"backup-1.tar", "backup-2.tar"}},
		{KMSDefault, &client.SSE{Algorithm: client.AlgorithmKMS}, []string{"app.log", "audit.log"}},
		{KMSCMK, &client.SSE{Algorithm: client.AlgorithmKMS, KeyID: e.CMK}, []string{"customers.db", "payroll.xlsx"}},
		{DisabledCMK, &client.SSE{Algorithm: client.AlgorithmKMS, KeyID: e.DisabledCMK}, []string{"archive-2019.zip"}},
		{DefaultLater, nil, []string{"legacy-1.csv", "legacy-2.csv"}},
	}
	for _, s := range steps {
		if err := c.CreateBucket(ctx, s.bucket, s.rule); err != nil {
			return e, fmt.Errorf("create bucket %s: %w", s.bucket, err)
		}
		e.Buckets = append(e.Buckets, s.bucket)
		for _, key := range s.keys {
			if err := put(s.bucket, key, nil); err != nil {
				return e, err
			}
		}
	}
	// The default comes after the objects: they stay unencrypted.
	if err := c.PutBucketEncryption(ctx, DefaultLater, client.Rule{Algorithm: client.AlgorithmAES256}); err != nil {
		return e, fmt.Errorf("set default on %s: %w", DefaultLater, err)
	}
	if _, err := k.DisableKey(&kmssdk.DisableKeyRequest{KeyId: tea.String(e.DisabledCMK)}); err != nil {
		return e, fmt.Errorf("disable key: %w", err)
	}
	return e, nil
}
