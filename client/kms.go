package client

import (
	kmssdk "github.com/alibabacloud-go/kms-20160120/v3/client"

	"github.com/sseaudit/sseaudit/kmsclient"
)

// KMSConfig locates the KMS endpoint that goes with a storage endpoint.
type KMSConfig struct {
	// Endpoint is http(s)://host[:port] or a bare host[:port] (HTTPS),
	// e.g. the reference server's KMSEndpoint or
	// https://kms.cn-hangzhou.aliyuncs.com.
	Endpoint                     string
	Region                       string
	AccessKeyID, AccessKeySecret string
}

// KMS returns the official Alibaba Cloud KMS SDK client for cfg, built by
// package kmsclient (whose AsServiceError reads the SDK's errors). It is a
// convenience for callers that hold a target configuration; kmsclient.New
// may be used directly.
func KMS(cfg KMSConfig, opts ...kmsclient.Option) (*kmssdk.Client, error) {
	return kmsclient.New(cfg.Endpoint, cfg.Region, cfg.AccessKeyID, cfg.AccessKeySecret, opts...)
}
