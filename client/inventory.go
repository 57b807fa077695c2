package client

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	oss2 "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
)

// InventoryFilter is which objects a bucket inventory configuration
// lists: its Filter as the endpoint returned it. An inventory census reads
// it because a report's manifest does not say it: a filtered report is
// silent about every object outside the filter.
type InventoryFilter struct {
	// Prefix is the key prefix ("" = every key); both dialects.
	Prefix string
	// OSS only: LastModified bounds in Unix seconds, size bounds in bytes
	// (nil = no bound), and the comma-separated storage classes ("" = all).
	LastModifyBegin, LastModifyEnd *int64
	LowerSize, UpperSize           *int64
	StorageClass                   string
}

// Empty reports whether the filter lists every object.
func (f InventoryFilter) Empty() bool {
	return f.Prefix == "" && f.LastModifyBegin == nil && f.LastModifyEnd == nil && f.LowerSize == nil &&
		f.UpperSize == nil && (f.StorageClass == "" || f.StorageClass == "All")
}

// String names each bound, e.g. `prefix "logs/", size >= 1024`.
func (f InventoryFilter) String() string {
	var parts []string
	if f.Prefix != "" {
		parts = append(parts, "prefix "+strconv.Quote(f.Prefix))
	}
	for _, b := range []struct {
		name string
		v    *int64
	}{{"modified at or after (Unix s)", f.LastModifyBegin}, {"modified at or before (Unix s)", f.LastModifyEnd},
		{"size >=", f.LowerSize}, {"size <=", f.UpperSize}} {
		if b.v != nil {
			parts = append(parts, b.name+" "+strconv.FormatInt(*b.v, 10))
		}
	}
	if f.StorageClass != "" && f.StorageClass != "All" {
		parts = append(parts, "storage classes "+f.StorageClass)
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, ", ")
}

// inventoryBackend reads an inventory configuration's filter.
type inventoryBackend interface {
	inventoryFilter(ctx context.Context, bucket, id string) (InventoryFilter, error)
}

var (
	_ inventoryBackend = (*ossV1)(nil)
	_ inventoryBackend = (*ossV2)(nil)
	_ inventoryBackend = (*s3Backend)(nil)
)

// BucketInventoryFilter reads the Filter of bucket's inventory
// configuration id (OSS GetBucketInventory, S3
// GetBucketInventoryConfiguration). A configuration that is not set is the
// endpoint's *Error (404 NoSuchInventory on OSS, NoSuchConfiguration on
// S3), never an empty filter.
func (c *Client) BucketInventoryFilter(ctx context.Context, bucket, id string) (InventoryFilter, error) {
	ctx, cancel, cp := c.call(ctx, false)
	defer cancel()
	f, err := c.b.(inventoryBackend).inventoryFilter(ctx, bucket, id)
	if err != nil {
		return InventoryFilter{}, c.fail("GetBucketInventory", bucket, "", cp, err)
	}
	return f, nil
}

// ossInvFilterDoc is the part of OSS's InventoryConfiguration read here
// (the v1 SDK's type has no field for the bounds).
type ossInvFilterDoc struct {
	Filter struct {
		Prefix                   string `xml:"Prefix"`
		LastModifyBeginTimeStamp string `xml:"LastModifyBeginTimeStamp"`
		LastModifyEndTimeStamp   string `xml:"LastModifyEndTimeStamp"`
		LowerSizeBound           string `xml:"LowerSizeBound"`
		UpperSizeBound           string `xml:"UpperSizeBound"`
		StorageClass             string `xml:"StorageClass"`
	} `xml:"Filter"`
}

func (d ossInvFilterDoc) filter() (InventoryFilter, error) {
	f := InventoryFilter{Prefix: d.Filter.Prefix, StorageClass: strings.TrimSpace(d.Filter.StorageClass)}
	for _, b := range []struct {
		name, v string
		dst     **int64
	}{{"LastModifyBeginTimeStamp", d.Filter.LastModifyBeginTimeStamp, &f.LastModifyBegin},
		{"LastModifyEndTimeStamp", d.Filter.LastModifyEndTimeStamp, &f.LastModifyEnd},
		{"LowerSizeBound", d.Filter.LowerSizeBound, &f.LowerSize}, {"UpperSizeBound", d.Filter.UpperSizeBound, &f.UpperSize}} {
		if v := strings.TrimSpace(b.v); v != "" {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				return InventoryFilter{}, fmt.Errorf("decode InventoryConfiguration: Filter/%s %q is not an integer", b.name, b.v)
			}
			*b.dst = &n
		}
	}
	return f, nil
}

func (o *ossV1) inventoryFilter(ctx context.Context, bucket, id string) (InventoryFilter, error) {
	data, err := o.getParams(ctx, bucket, map[string]interface{}{"inventory": nil, "inventoryId": id})
	if err != nil {
		return InventoryFilter{}, err
	}
	var d ossInvFilterDoc
	if err := xml.Unmarshal(data, &d); err != nil {
		return InventoryFilter{}, fmt.Errorf("decode InventoryConfiguration: %w", err)
	}
	return d.filter()
}

func (o *ossV2) inventoryFilter(ctx context.Context, bucket, id string) (InventoryFilter, error) {
	r, err := o.c.GetBucketInventory(ctx, &oss2.GetBucketInventoryRequest{Bucket: oss2.Ptr(bucket), InventoryId: oss2.Ptr(id)})
	if err != nil {
		return InventoryFilter{}, err
	}
	if r.InventoryConfiguration == nil || r.InventoryConfiguration.Filter == nil {
		return InventoryFilter{}, nil
	}
	f := r.InventoryConfiguration.Filter
	return InventoryFilter{Prefix: oss2.ToString(f.Prefix), LastModifyBegin: f.LastModifyBeginTimeStamp, LastModifyEnd: f.LastModifyEndTimeStamp,
		LowerSize: f.LowerSizeBound, UpperSize: f.UpperSizeBound, StorageClass: strings.TrimSpace(oss2.ToString(f.StorageClass))}, nil
}

// minio-go has no inventory call: GetBucketInventoryConfiguration is
// signed by minio-go's signer and sent by this package (as bucketACL is).
func (s *s3Backend) inventoryFilter(ctx context.Context, bucket, id string) (InventoryFilter, error) {
	q := "id=" + url.QueryEscape(id) + "&inventory="
	u := s.scheme + "://" + s.host + "/" + url.PathEscape(bucket) + "?" + q
	if !s.pathStyle {
		u = s.scheme + "://" + bucket + "." + s.host + "/?" + q
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return InventoryFilter{}, err
	}
	data, err := s.doSigned(req, nil)
	if err != nil {
		return InventoryFilter{}, err
	}
	var d struct {
		Prefix string `xml:"Filter>Prefix"`
	}
	if err := xml.Unmarshal(data, &d); err != nil {
		return InventoryFilter{}, fmt.Errorf("decode InventoryConfiguration: %w", err)
	}
	return InventoryFilter{Prefix: d.Prefix}, nil
}
