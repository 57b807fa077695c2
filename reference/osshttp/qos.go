package osshttp

import (
	"encoding/xml"
	"net/http"
	"strconv"
	"strings"
)

// QoS (bandwidth and QPS throttling): GetUserQoSInfo (GET /?qosInfo on
// the service) and Put/Get/DeleteBucketQoSInfo (?qosInfo on a bucket).
//
// There are no real bandwidth or request-rate limits here, so the user's
// QoS is fixed: OSS's documented default limits for the region this
// endpoint serves (10 Gbit/s of bandwidth in Chinese mainland regions, 5
// Gbit/s elsewhere; 10,000 QPS), the same for every principal. A bucket's
// QoS is a configuration document kept with the bucket like the others in
// bucketconfig.go, validated as OSS validates it and never enforced.
//
// Values are integers, bandwidth in Gbit/s: -1 means no limit of the
// bucket's own (the default of an absent element, and what Get answers
// for it), 0 forbids that kind of access. A value below -1 or not an
// integer is 400 InvalidArgument (EC 0004-00000103); an intranet or
// extranet value above its total, or any value above the user's, 400
// InvalidArgument (EC 0004-00000114: "the values are wrong or
// contradict each other"); another root than QoSConfiguration 400
// MalformedXML (EC 0004-00000102). Get without one is 404
// NoSuchQoSConfiguration (EC 0004-00000002, "the bucket has no QoS
// configuration"). The ECs are OSS's (its EC pages); the codes of the
// 400s and the 404 are chosen here, as OSS documents none for this
// invitational-preview feature.

// CodeNoSuchQoSConfiguration answers GetBucketQoSInfo for a bucket without
// a QoS configuration.
const CodeNoSuchQoSConfiguration = "NoSuchQoSConfiguration"

// qosFields are the QoS elements in OSS's order; each is a limit.
var qosFields = []string{
	"TotalUploadBandwidth", "IntranetUploadBandwidth", "ExtranetUploadBandwidth",
	"TotalDownloadBandwidth", "IntranetDownloadBandwidth", "ExtranetDownloadBandwidth",
	"TotalQps", "IntranetQps", "ExtranetQps",
}

// xmlQoS is a QoS document as kept and answered: every element present.
type xmlQoS struct {
	XMLName                   xml.Name `xml:"QoSConfiguration"`
	Region                    string   `xml:"Region,omitempty"` // GetUserQoSInfo only
	TotalUploadBandwidth      int64    `xml:"TotalUploadBandwidth"`
	IntranetUploadBandwidth   int64    `xml:"IntranetUploadBandwidth"`
	ExtranetUploadBandwidth   int64    `xml:"ExtranetUploadBandwidth"`
	TotalDownloadBandwidth    int64    `xml:"TotalDownloadBandwidth"`
	IntranetDownloadBandwidth int64    `xml:"IntranetDownloadBandwidth"`
	ExtranetDownloadBandwidth int64    `xml:"ExtranetDownloadBandwidth"`
	TotalQPS                  int64    `xml:"TotalQps"`
	IntranetQPS               int64    `xml:"IntranetQps"`
	ExtranetQPS               int64    `xml:"ExtranetQps"`
}

// values lists q's limits in qosFields order.
func (q *xmlQoS) values() []*int64 {
	return []*int64{
		&q.TotalUploadBandwidth, &q.IntranetUploadBandwidth, &q.ExtranetUploadBandwidth,
		&q.TotalDownloadBandwidth, &q.IntranetDownloadBandwidth, &q.ExtranetDownloadBandwidth,
		&q.TotalQPS, &q.IntranetQPS, &q.ExtranetQPS,
	}
}

// userQoS is the principal's QoS: OSS's default limits for region.
func userQoS(region string) xmlQoS {
	bw := int64(5)
	if strings.HasPrefix(region, "cn-") {
		bw = 10
	}
	const qps = 10000
	return xmlQoS{Region: locationOf(region),
		TotalUploadBandwidth: bw, IntranetUploadBandwidth: bw, ExtranetUploadBandwidth: bw,
		TotalDownloadBandwidth: bw, IntranetDownloadBandwidth: bw, ExtranetDownloadBandwidth: bw,
		TotalQPS: qps, IntranetQPS: qps, ExtranetQPS: qps}
}

// getUserQoSInfo is GET /?qosInfo.
func (h *handler) getUserQoSInfo(req *request) *ossError {
	if req.r.Method != http.MethodGet {
		return errMethodNotAllowed("GET")
	}
	req.op = "GetUserQoSInfo"
	return h.reply(req, userQoS(h.cfg.Region))
}

func errQoSValues(msg string) *ossError {
	return errInvalidArgument(msg).withEC("0004-00000114")
}

// parseQoS validates a bucket QoS document on its own and returns it
// with every element present (-1 for an absent one).
func parseQoS(_ *request, body []byte) ([]byte, *ossError) {
	// Strings, so that a value that is no integer is told from a
	// document of the wrong shape.
	var in struct {
		XMLName xml.Name `xml:"QoSConfiguration"`
		Fields  []struct {
			XMLName xml.Name
			Value   string `xml:",chardata"`
		} `xml:",any"`
	}
	if err := decodeXMLStrict(body, &in); err != nil {
		return nil, errMalformedXML().withEC("0004-00000102")
	}
	out := xmlQoS{}
	vals := out.values()
	for _, v := range vals {
		*v = -1
	}
	seen := map[string]bool{}
	for _, f := range in.Fields {
		name := f.XMLName.Local
		i := indexOf(qosFields, name)
		if i < 0 || seen[name] {
			return nil, errMalformedXML().withEC("0004-00000102")
		}
		seen[name] = true
		n, err := strconv.ParseInt(strings.TrimSpace(f.Value), 10, 64)
		if err != nil || n < -1 {
			return nil, errInvalidArgument(name+" must be an integer of -1 (no limit) or more.").
				with("ArgumentName", name).with("ArgumentValue", f.Value).withEC("0004-00000103")
		}
		*vals[i] = n
	}
	// An intranet or extranet limit cannot exceed its total (-1, no
	// limit of its own, leaves it bounded by the total).
	for i := 0; i < len(vals); i += 3 {
		total := *vals[i]
		for _, j := range []int{i + 1, i + 2} {
			if total != -1 && *vals[j] > total {
				return nil, errQoSValues(qosFields[j] + " exceeds " + qosFields[i] + ".")
			}
		}
	}
	return keep(out)
}

// checkQoSUser refuses a bucket QoS above the user's.
func (h *handler) checkQoSUser(_ *request, doc []byte) *ossError {
	var q xmlQoS
	if err := xml.Unmarshal(doc, &q); err != nil {
		return errInternal()
	}
	user := userQoS(h.cfg.Region)
	uv := user.values()
	for i, v := range q.values() {
		if *v > *uv[i] {
			return errQoSValues(qosFields[i] + " of the bucket (" + strconv.FormatInt(*v, 10) +
				") exceeds the user's (" + strconv.FormatInt(*uv[i], 10) + "; see GetUserQoSInfo).")
		}
	}
	return nil
}

func indexOf(list []string, s string) int {
	for i, x := range list {
		if x == s {
			return i
		}
	}
	return -1
}
