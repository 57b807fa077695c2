package osshttp

import (
	"io"
	"net/http"
	"strings"
	"testing"

	oss2 "github.com/aliyun/alibabacloud-oss-go-sdk-v2/oss"
	oss1 "github.com/aliyun/aliyun-oss-go-sdk/oss"
)

func qosConf(v ...int) oss1.BucketQoSConfiguration {
	p := func(i int) *int {
		if i >= len(v) || v[i] == qosAbsent {
			return nil
		}
		return &v[i]
	}
	return oss1.BucketQoSConfiguration{TotalUploadBandwidth: p(0), IntranetUploadBandwidth: p(1), ExtranetUploadBandwidth: p(2),
		TotalDownloadBandwidth: p(3), IntranetDownloadBandwidth: p(4), ExtranetDownloadBandwidth: p(5),
		TotalQPS: p(6), IntranetQPS: p(7), ExtranetQPS: p(8)}
}

// qosAbsent leaves an element out of qosConf's document.
const qosAbsent = -99

func qosValues(c oss1.BucketQoSConfiguration) []int {
	out := []int{}
	for _, p := range []*int{c.TotalUploadBandwidth, c.IntranetUploadBandwidth, c.ExtranetUploadBandwidth,
		c.TotalDownloadBandwidth, c.IntranetDownloadBandwidth, c.ExtranetDownloadBandwidth, c.TotalQPS, c.IntranetQPS, c.ExtranetQPS} {
		if p == nil {
			out = append(out, qosAbsent)
		} else {
			out = append(out, *p)
		}
	}
	return out
}

// TestBucketQoSV1: the user's QoS and a bucket's, through the v1 SDK as
// its own TestBucketQos drives them: the user's defaults, 404 before a
// Put, each Put read back exactly (absent elements as -1) or refused
// with OSS's EC keeping the previous document, Delete, and NoSuchBucket
// and AccessDenied as for the other bucket settings.
func TestBucketQoSV1(t *testing.T) {
	e := newTestEnv(t)
	c := newV1(e, e.srv.URL, rootAK, rootSK).c
	const b = "qos"
	must(t, c.CreateBucket(b))

	user, err := c.GetUserQoSInfo()
	must(t, err)
	if user.Region != "oss-"+testRegion || qosValuesJoined(user.BucketQoSConfiguration) != "10,10,10,10,10,10,10000,10000,10000" {
		t.Fatalf("GetUserQoSInfo %s %v", user.Region, qosValues(user.BucketQoSConfiguration))
	}

	_, err = c.GetBucketQosInfo(b)
	wantErr(t, err, 404, CodeNoSuchQoSConfiguration)

	const none = qosAbsent
	for _, tc := range []struct {
		name   string
		put    oss1.BucketQoSConfiguration
		status int    // 0: accepted
		ec     string // the refusal's EC
		want   string // read back after the Put (the previous one when refused)
	}{
		{name: "every element", put: qosConf(5, 4, 4, 4, 4, 4, 200, 200, 200), want: "5,4,4,4,4,4,200,200,200"},
		{name: "absent elements are -1", put: qosConf(5, 4, 4, 4, 4, 4, 200), want: "5,4,4,4,4,4,200,-1,-1"},
		{name: "zero forbids, -1 unlimited", put: qosConf(-1, 0, -1, 10, 10, 0, 10000, -1, 0), want: "-1,0,-1,10,10,0,10000,-1,0"},
		{name: "above the user's bandwidth", put: qosConf(12, 4, 4, 4, 4, 4, 200, 200, 200), status: 400, ec: "0004-00000114", want: "-1,0,-1,10,10,0,10000,-1,0"},
		{name: "above the user's QPS", put: qosConf(none, none, none, none, none, none, none, none, 10001), status: 400, ec: "0004-00000114", want: "-1,0,-1,10,10,0,10000,-1,0"},
		{name: "intranet above total", put: qosConf(5, 6), status: 400, ec: "0004-00000114", want: "-1,0,-1,10,10,0,10000,-1,0"},
		{name: "extranet QPS above total", put: qosConf(none, none, none, none, none, none, 100, 100, 101), status: 400, ec: "0004-00000114", want: "-1,0,-1,10,10,0,10000,-1,0"},
		{name: "below -1", put: qosConf(-2), status: 400, ec: "0004-00000103", want: "-1,0,-1,10,10,0,10000,-1,0"},
		{name: "empty document is all -1", put: qosConf(), want: "-1,-1,-1,-1,-1,-1,-1,-1,-1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := c.SetBucketQoSInfo(b, tc.put)
			if tc.status == 0 {
				must(t, err)
			} else {
				wantErr(t, err, tc.status, CodeInvalidArgument)
				if _, _, ec := svcErr(err); ec != tc.ec {
					t.Fatalf("EC %q, want %q", ec, tc.ec)
				}
			}
			got, err := c.GetBucketQosInfo(b)
			must(t, err)
			if s := qosValuesJoined(got); s != tc.want {
				t.Fatalf("read back %s, want %s", s, tc.want)
			}
		})
	}

	must(t, c.DeleteBucketQosInfo(b))
	_, err = c.GetBucketQosInfo(b)
	wantErr(t, err, 404, CodeNoSuchQoSConfiguration)
	must(t, c.DeleteBucketQosInfo(b)) // none set: still 204

	// A bucket that does not exist, and one the principal may not touch.
	bob := newV1(e, e.srv.URL, bobAK, bobSK).c
	for _, tc := range []struct {
		name   string
		c      *oss1.Client
		bucket string
		status int
		code   string
	}{
		{"missing bucket", c, b + "-missing", 404, CodeNoSuchBucket},
		{"another's bucket", bob, b, 403, CodeAccessDenied},
	} {
		t.Run(tc.name, func(t *testing.T) {
			wantErr(t, tc.c.SetBucketQoSInfo(tc.bucket, qosConf(1)), tc.status, tc.code)
			_, err := tc.c.GetBucketQosInfo(tc.bucket)
			wantErr(t, err, tc.status, tc.code)
			wantErr(t, tc.c.DeleteBucketQosInfo(tc.bucket), tc.status, tc.code)
		})
	}
	// DeleteBucket drops the QoS with the bucket.
	must(t, c.SetBucketQoSInfo(b, qosConf(1)))
	must(t, c.DeleteBucket(b))
	must(t, c.CreateBucket(b))
	_, err = c.GetBucketQosInfo(b)
	wantErr(t, err, 404, CodeNoSuchQoSConfiguration)
}

func qosValuesJoined(c oss1.BucketQoSConfiguration) string {
	var s []string
	for _, v := range qosValues(c) {
		s = append(s, itoa(v))
	}
	return strings.Join(s, ",")
}

// TestBucketQoSRawV2: documents the v1 SDK cannot send, through the v2
// SDK's InvokeOperation (it has no QoS API), and GetUserQoSInfo's XML.
func TestBucketQoSRawV2(t *testing.T) {
	e := newTestEnv(t)
	c := newV2(e, e.srv.URL, rootAK, rootSK, nil).c
	const b = "qosraw"
	_, err := c.PutBucket(bg, &oss2.PutBucketRequest{Bucket: oss2.Ptr(b)})
	must(t, err)
	put := func(body string) error {
		_, err := c.InvokeOperation(bg, &oss2.OperationInput{OpName: "PutBucketQoSInfo", Method: "PUT", Bucket: oss2.Ptr(b),
			Parameters: map[string]string{"qosInfo": ""}, Headers: map[string]string{"Content-Type": "application/xml"},
			Body: strings.NewReader(body)})
		return err
	}
	for _, tc := range []struct {
		name, body string
		code, ec   string
	}{
		{"another root", "<BucketUserQos><TotalQps>1</TotalQps></BucketUserQos>", CodeMalformedXML, "0004-00000102"},
		{"unknown element", "<QoSConfiguration><TotalQPS>1</TotalQPS></QoSConfiguration>", CodeMalformedXML, "0004-00000102"},
		{"repeated element", "<QoSConfiguration><TotalQps>1</TotalQps><TotalQps>2</TotalQps></QoSConfiguration>", CodeMalformedXML, "0004-00000102"},
		{"not an integer", "<QoSConfiguration><TotalQps>many</TotalQps></QoSConfiguration>", CodeInvalidArgument, "0004-00000103"},
		{"empty value", "<QoSConfiguration><IntranetQps></IntranetQps></QoSConfiguration>", CodeInvalidArgument, "0004-00000103"},
		{"not well-formed", "<QoSConfiguration><TotalQps>1</QoSConfiguration>", CodeMalformedXML, "0004-00000102"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := put(tc.body)
			wantErr(t, err, 400, tc.code)
			if _, _, ec := svcErr(err); ec != tc.ec {
				t.Fatalf("EC %q, want %q", ec, tc.ec)
			}
		})
	}
	must(t, put(" <QoSConfiguration>\n<TotalQps> 7 </TotalQps></QoSConfiguration>"))

	out, err := c.InvokeOperation(bg, &oss2.OperationInput{OpName: "GetUserQoSInfo", Method: "GET",
		Parameters: map[string]string{"qosInfo": ""}})
	must(t, err)
	defer out.Body.Close()
	doc, err := io.ReadAll(out.Body)
	must(t, err)
	want := "<QoSConfiguration><Region>oss-cn-hangzhou</Region><TotalUploadBandwidth>10</TotalUploadBandwidth>"
	if out.StatusCode != http.StatusOK || !strings.Contains(string(doc), want) || !strings.Contains(string(doc), "<ExtranetQps>10000</ExtranetQps>") {
		t.Fatalf("GetUserQoSInfo %d %s", out.StatusCode, doc)
	}
	// The service sub-resource takes GET only.
	_, err = c.InvokeOperation(bg, &oss2.OperationInput{OpName: "PutUserQoSInfo", Method: "PUT",
		Parameters: map[string]string{"qosInfo": ""}, Body: strings.NewReader("<QoSConfiguration/>")})
	wantErr(t, err, 405, CodeMethodNotAllowed)
}

// TestBucketOverwriteConfigV2: the overwrite configuration through the
// v2 SDK as its own TestBucketOverwriteConfig drives it: Put, Get and
// Delete on a bucket; on a missing bucket Get and Delete are 404
// NoSuchBucket and Put, with a body OSS accepts on a bucket that exists,
// 400 MalformedXML EC 0015-00000231; a body refused on its own is
// refused the same way whether or not the bucket exists.
func TestBucketOverwriteConfigV2(t *testing.T) {
	e := newTestEnv(t)
	c := newV2(e, e.srv.URL, rootAK, rootSK, nil).c
	const b = "overwrite"
	_, err := c.PutBucket(bg, &oss2.PutBucketRequest{Bucket: oss2.Ptr(b)})
	must(t, err)
	rules := func(rs ...oss2.OverwriteRule) *oss2.OverwriteConfiguration {
		return &oss2.OverwriteConfiguration{Rules: rs}
	}
	forbid := func(id string) oss2.OverwriteRule {
		return oss2.OverwriteRule{ID: oss2.Ptr(id), Action: oss2.Ptr("forbid")}
	}
	good := rules(forbid("1"), oss2.OverwriteRule{ID: oss2.Ptr("2"), Action: oss2.Ptr("forbid"), Prefix: oss2.Ptr("pre"), Suffix: oss2.Ptr(".txt"),
		Principals: &oss2.OverwritePrincipals{Principals: []string{"1234567890"}}})
	put := func(bucket string, conf *oss2.OverwriteConfiguration) error {
		_, err := c.PutBucketOverwriteConfig(bg, &oss2.PutBucketOverwriteConfigRequest{Bucket: oss2.Ptr(bucket), OverwriteConfiguration: conf})
		return err
	}
	must(t, put(b, good))
	got, err := c.GetBucketOverwriteConfig(bg, &oss2.GetBucketOverwriteConfigRequest{Bucket: oss2.Ptr(b)})
	must(t, err)
	if r := got.OverwriteConfiguration.Rules; len(r) != 2 || *r[1].Prefix != "pre" || r[1].Principals.Principals[0] != "1234567890" {
		t.Fatalf("overwrite config read back %+v", r)
	}
	del, err := c.DeleteBucketOverwriteConfig(bg, &oss2.DeleteBucketOverwriteConfigRequest{Bucket: oss2.Ptr(b)})
	must(t, err)
	if del.StatusCode != 204 {
		t.Fatalf("DeleteBucketOverwriteConfig status %d", del.StatusCode)
	}

	missing := b + "-not-exist"
	_, err = c.GetBucketOverwriteConfig(bg, &oss2.GetBucketOverwriteConfigRequest{Bucket: oss2.Ptr(missing)})
	wantErr(t, err, 404, CodeNoSuchBucket)
	_, err = c.DeleteBucketOverwriteConfig(bg, &oss2.DeleteBucketOverwriteConfigRequest{Bucket: oss2.Ptr(missing)})
	wantErr(t, err, 404, CodeNoSuchBucket)

	many := make([]oss2.OverwriteRule, 101)
	for i := range many {
		many[i] = forbid(itoa(i))
	}
	for _, tc := range []struct {
		name   string
		bucket string
		conf   *oss2.OverwriteConfiguration
		status int
		code   string
		ec     string
	}{
		{"suite's body, missing bucket", missing, rules(forbid("1")), 400, CodeMalformedXML, "0015-00000231"},
		{"two rules, missing bucket", missing, good, 400, CodeMalformedXML, "0015-00000231"},
		{"suite's body, bucket", b, rules(forbid("1")), 0, "", ""},
		{"duplicate ids, bucket", b, rules(forbid("1"), forbid("1")), 400, CodeMalformedXML, "0015-00000231"},
		{"duplicate ids, missing bucket", missing, rules(forbid("1"), forbid("1")), 400, CodeMalformedXML, "0015-00000231"},
		{"101 rules, bucket", b, rules(many...), 400, CodeInvalidArgument, ""},
		{"101 rules, missing bucket", missing, rules(many...), 400, CodeInvalidArgument, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			err := put(tc.bucket, tc.conf)
			if tc.status == 0 {
				must(t, err)
				return
			}
			wantErr(t, err, tc.status, tc.code)
			if _, _, ec := svcErr(err); ec != tc.ec {
				t.Fatalf("EC %q, want %q", ec, tc.ec)
			}
		})
	}
	// Another principal meets AccessDenied, not the missing-bucket answer.
	bob := newV2(e, e.srv.URL, bobAK, bobSK, nil).c
	_, err = bob.PutBucketOverwriteConfig(bg, &oss2.PutBucketOverwriteConfigRequest{Bucket: oss2.Ptr(b), OverwriteConfiguration: rules(forbid("1"))})
	wantErr(t, err, 403, CodeAccessDenied)
}
