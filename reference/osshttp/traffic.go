package osshttp

import (
	"context"
	"io"
	"net/http"
	"strconv"
	"time"
)

// x-oss-traffic-limit (header, or query parameter on a presigned URL)
// caps one request's transfer at the given bits per second, 819200 (100
// KiB/s) to 838860800 (100 MiB/s) as OSS documents; another value is 400
// InvalidArgument. The cap applies to the request body of uploads
// (PutObject, AppendObject, UploadPart) and to the response body of
// GetObject: the transfer is paced so that after n bytes at least
// n*8/limit seconds have passed since it began.

const (
	hTrafficLimit   = "X-Oss-Traffic-Limit"
	minTrafficLimit = 819200
	maxTrafficLimit = 838860800
)

// trafficLimit reads the request's limit in bytes per second; 0 when it
// sets none.
func trafficLimit(r *http.Request) (int64, *ossError) {
	v := r.Header.Get(hTrafficLimit)
	if v == "" {
		v = r.URL.Query().Get("x-oss-traffic-limit")
	}
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < minTrafficLimit || n > maxTrafficLimit {
		return 0, errInvalidArgument("x-oss-traffic-limit must be a number of bits per second from 819200 to 838860800.").
			with("ArgumentName", "x-oss-traffic-limit").with("ArgumentValue", v)
	}
	return n / 8, nil
}

// pacer delays a transfer so that it stays under rate bytes per second.
type pacer struct {
	ctx   context.Context
	rate  int64
	start time.Time
	done  int64
	// waited is the time spent holding the transfer back, reported to
	// the client as x-oss-qos-delay-time (milliseconds) on uploads.
	waited time.Duration
}

// chunk is the most bytes one step moves: a tenth of a second's worth.
func (p *pacer) chunk() int { return int(max(p.rate/10, 1)) }

// account records n more bytes and waits until the pace allows them.
func (p *pacer) account(n int) error {
	if p.start.IsZero() {
		p.start = time.Now()
	}
	p.done += int64(n)
	due := p.start.Add(time.Duration(float64(p.done) / float64(p.rate) * float64(time.Second)))
	wait := time.Until(due)
	if wait <= 0 {
		return nil
	}
	p.waited += wait
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-p.ctx.Done():
		return p.ctx.Err()
	}
}

type pacedReader struct {
	r io.ReadCloser
	p *pacer
}

func (pr *pacedReader) Read(b []byte) (int, error) {
	if len(b) > pr.p.chunk() {
		b = b[:pr.p.chunk()]
	}
	n, err := pr.r.Read(b)
	if n > 0 {
		if werr := pr.p.account(n); werr != nil && err == nil {
			err = werr
		}
	}
	return n, err
}

func (pr *pacedReader) Close() error { return pr.r.Close() }

type pacedWriter struct {
	http.ResponseWriter
	p       *pacer
	in      *pacer // the request body's, nil without one
	hdrDone bool
}

// reportDelay adds x-oss-qos-delay-time, how long the upload was held
// back, before the answer's headers go out.
func (pw *pacedWriter) reportDelay() {
	if pw.hdrDone {
		return
	}
	pw.hdrDone = true
	if pw.in != nil && pw.in.waited > 0 {
		pw.Header().Set("X-Oss-Qos-Delay-Time", strconv.FormatInt(max(pw.in.waited.Milliseconds(), 1), 10))
	}
}

func (pw *pacedWriter) WriteHeader(code int) {
	pw.reportDelay()
	pw.ResponseWriter.WriteHeader(code)
}

func (pw *pacedWriter) Write(b []byte) (int, error) {
	pw.reportDelay()
	written := 0
	for len(b) > 0 {
		c := min(len(b), pw.p.chunk())
		// Wait first: a piece leaves no earlier than the pace allows
		// everything up to its end, so the client sees the limit.
		if err := pw.p.account(c); err != nil {
			return written, err
		}
		n, err := pw.ResponseWriter.Write(b[:c])
		written += n
		if err != nil {
			return written, err
		}
		b = b[c:]
	}
	return written, nil
}

func (pw *pacedWriter) Unwrap() http.ResponseWriter { return pw.ResponseWriter }

// applyTrafficLimit paces req's body and its answer when it asks for a
// limit.
func applyTrafficLimit(req *request) *ossError {
	rate, e := trafficLimit(req.r)
	if e != nil || rate == 0 {
		return e
	}
	ctx := req.r.Context()
	pw := &pacedWriter{ResponseWriter: req.w.ResponseWriter, p: &pacer{ctx: ctx, rate: rate}}
	if req.r.Body != nil && req.r.Body != http.NoBody {
		pw.in = &pacer{ctx: ctx, rate: rate}
		req.r.Body = &pacedReader{r: req.r.Body, p: pw.in}
	}
	req.w.ResponseWriter = pw
	return nil
}

// refuseWriteConditions answers a PutObject carrying If-Modified-Since,
// If-Unmodified-Since, If-Match or If-None-Match as OSS does: 400
// NotImplemented naming the header, EC 0017-00000245 (OSS evaluates
// these on reads and copies only; x-oss-forbid-overwrite is its
// conditional write).
func refuseWriteConditions(h http.Header) *ossError {
	for _, k := range getConditions {
		if _, ok := h[k]; ok {
			return newErr(http.StatusBadRequest, CodeNotImplemented, "A header you provided implies functionality that is not implemented.").
				withEC("0017-00000245").with("Header", k)
		}
	}
	return nil
}

// sealAppendObject is POST ?seal&position=N. Sealing makes an appendable
// object final; OSS regions without it answer 400 OperationNotSupported
// "SealAppendable is not supported." (EC 0016-00000513), and so does the
// reference, once the bucket and object are known to exist.
func (h *handler) sealAppendObject(req *request) *ossError {
	if _, err := h.cfg.Store.HeadObject(req.ctx(), req.principal, req.res.bucket, req.res.key); err != nil {
		return fromStore(err, req.res.bucket, req.res.key)
	}
	return newErr(http.StatusBadRequest, CodeOperationNotSupported, "SealAppendable is not supported.").withEC("0016-00000513")
}
