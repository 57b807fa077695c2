package server

import (
	"net/http"
	"strings"
)

// omitSSEHeaders is the OmitSSEHeader fault: it drops every SSE response
// header of both dialects just before the status line is written, which is
// the rule "a header is added in the response to indicate that the object
// is encrypted" broken in one place for every operation.
func omitSSEHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(&sseStripper{ResponseWriter: w}, r)
	})
}

// omitSSEHeadersCopyMultipart is the OmitSSEHeaderCopyMultipart fault: the
// SSE response headers of CopyObject (and UploadPartCopy) and of every
// multipart upload request are dropped; the object is still encrypted and
// HEAD and GET still say so.
func omitSSEHeadersCopyMultipart(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		if r.Header.Get("x-amz-copy-source") != "" || r.Header.Get("x-oss-copy-source") != "" || q.Has("uploads") || q.Has("uploadId") {
			w = &sseStripper{ResponseWriter: w}
		}
		next.ServeHTTP(w, r)
	})
}

type sseStripper struct {
	http.ResponseWriter
	wrote bool
}

func (s *sseStripper) strip() {
	if s.wrote {
		return
	}
	s.wrote = true
	h := s.Header()
	for k := range h {
		lk := strings.ToLower(k)
		if strings.HasPrefix(lk, "x-oss-server-side-") || strings.HasPrefix(lk, "x-amz-server-side-encryption") {
			delete(h, k)
		}
	}
}

func (s *sseStripper) WriteHeader(code int) {
	s.strip()
	s.ResponseWriter.WriteHeader(code)
}

func (s *sseStripper) Write(p []byte) (int, error) {
	s.strip()
	return s.ResponseWriter.Write(p)
}

// Flush keeps streaming responses streaming.
func (s *sseStripper) Flush() {
	s.strip()
	if f, ok := s.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}
