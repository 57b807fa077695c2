package steps

import (
	"bytes"
	"context"
	"crypto/md5"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	ossv2creds "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/credentials"
	osssigner "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss/signer"
	s3signer "github.com/minio/minio-go/v7/pkg/signer"

	"github.com/sseaudit/sseaudit/client"
)

// rawEncryption sends one signed request to the current bucket's
// ?encryption sub-resource, outside the SDKs, which cannot send a malformed
// document and hide the status of "no rule". OSS requests are signed by
// the OSS v2 SDK's signer package (V4, or V1 when the target is configured
// for V1 signatures), S3 requests by minio-go's SignV4. The answer comes
// back as a *client.Error for a status of 300 or more, nil otherwise.
func (w *world) rawEncryption(ctx context.Context, method string, body []byte) error {
	cfg := w.r.opts.Targets[w.dialect]
	u, err := url.Parse(w.client.Endpoint())
	if err != nil {
		return err
	}
	host := u.Host
	if cfg.PathStyle || isLocal(host) {
		u.Path = "/" + w.bucket + "/"
	} else {
		u.Host = w.bucket + "." + host
		u.Path = "/"
	}
	u.RawQuery = "encryption"
	if w.dialect == client.S3 {
		u.RawQuery = "encryption="
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.ContentLength = int64(len(body))
	if len(body) > 0 {
		sum := md5.Sum(body)
		req.Header.Set("Content-MD5", base64.StdEncoding.EncodeToString(sum[:]))
		req.Header.Set("Content-Type", "application/xml")
	}
	switch w.dialect {
	case client.OSS:
		var sg osssigner.Signer = &osssigner.SignerV4{}
		if cfg.OSSSignature == client.OSSSignatureV1 || (cfg.OSSSignature == "" && cfg.OSSSDK != client.OSSSDKV2) {
			sg = &osssigner.SignerV1{}
		}
		product, region, bucket := "oss", cfg.Region, w.bucket
		sc := &osssigner.SigningContext{
			Product: &product, Region: &region, Bucket: &bucket, Request: req,
			SubResource: []string{"encryption"},
			Credentials: &ossv2creds.Credentials{AccessKeyID: cfg.AccessKeyID, AccessKeySecret: cfg.AccessKeySecret},
		}
		if err := sg.Sign(ctx, sc); err != nil {
			return fmt.Errorf("sign the OSS request: %w", err)
		}
	case client.S3:
		sum := sha256.Sum256(body)
		req.Header.Set("X-Amz-Content-Sha256", hex.EncodeToString(sum[:]))
		req = s3signer.SignV4(*req, cfg.AccessKeyID, cfg.AccessKeySecret, "", cfg.Region)
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	if isLocal(host) {
		tr.Proxy = nil
	}
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	resp, err := hc.Do(req)
	if err != nil {
		return fmt.Errorf("%s ?encryption of %s: %w", method, w.bucket, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode < 300 {
		return nil
	}
	var doc struct {
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	}
	_ = xml.Unmarshal(data, &doc)
	return &client.Error{Op: method + " ?encryption", StatusCode: resp.StatusCode, Code: doc.Code, Message: doc.Message, Header: resp.Header}
}

// isLocal reports a loopback or IP-address host, which is addressed
// path-style (as package client does).
func isLocal(hostport string) bool {
	h := hostport
	if host, _, err := net.SplitHostPort(hostport); err == nil {
		h = host
	}
	h = strings.Trim(h, "[]")
	return strings.EqualFold(h, "localhost") || net.ParseIP(h) != nil
}
