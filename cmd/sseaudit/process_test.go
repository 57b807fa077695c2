package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aliyun/aliyun-oss-go-sdk/oss"
)

// These tests run the real binary as a separate process, because what they
// check (signals, a SIGKILL mid-upload) cannot be observed in-process.

const (
	procAK = "PROCTESTAK"
	procSK = "proc-test-secret"
)

var buildOnce struct {
	sync.Once
	path string
	err  error
}

func buildBinary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "sseaudit-bin-")
		if err != nil {
			buildOnce.err = err
			return
		}
		buildOnce.path = filepath.Join(dir, "sseaudit")
		out, err := exec.Command("go", "build", "-o", buildOnce.path, ".").CombinedOutput()
		if err != nil {
			buildOnce.err = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildOnce.err != nil {
		t.Fatal(buildOnce.err)
	}
	return buildOnce.path
}

type serveProc struct {
	cmd      *exec.Cmd
	endpoint string
	kms      string
	stdout   *syncBuffer
	done     chan error
}

func startServe(t *testing.T, data string) *serveProc {
	t.Helper()
	bin := buildBinary(t)
	cmd := exec.Command(bin, "serve", "--addr", "127.0.0.1:0", "--kms-addr", "127.0.0.1:0", "--data", data)
	cmd.Env = append(os.Environ(), "SSEAUDIT_ROOT_ACCESS_KEY_ID="+procAK, "SSEAUDIT_ROOT_ACCESS_KEY_SECRET="+procSK)
	p := &serveProc{cmd: cmd, stdout: &syncBuffer{}, done: make(chan error, 1)}
	pipe, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr syncBuffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(pipe)
		for sc.Scan() {
			p.stdout.Write([]byte(sc.Text() + "\n"))
			lines <- sc.Text()
		}
		close(lines)
		p.done <- cmd.Wait()
	}()
	deadline := time.After(20 * time.Second)
	for p.endpoint == "" || p.kms == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("serve exited before listening:\n%s\n%s", p.stdout.String(), stderr.String())
			}
			if v, ok := strings.CutPrefix(l, "oss/s3 endpoint: "); ok {
				p.endpoint = v
			}
			if v, ok := strings.CutPrefix(l, "kms endpoint: "); ok {
				p.kms = v
			}
		case <-deadline:
			cmd.Process.Kill()
			t.Fatalf("serve did not print its endpoints:\n%s\n%s", p.stdout.String(), stderr.String())
		}
	}
	go func() {
		for range lines {
		}
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			cmd.Process.Kill()
			<-p.done
		}
	})
	return p
}

func (p *serveProc) ossBucket(t *testing.T, name string) *oss.Bucket {
	t.Helper()
	c, err := oss.New(p.endpoint, procAK, procSK, oss.ForcePathStyle(true), oss.Timeout(10, 30))
	if err != nil {
		t.Fatal(err)
	}
	b, err := c.Bucket(name)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestServeProcessStopsCleanlyOnSIGTERM(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	p := startServe(t, t.TempDir())
	if err := p.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-p.done:
		if err != nil {
			t.Fatalf("serve exited with %v after SIGTERM, want exit 0", err)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("serve did not exit within 20s of SIGTERM")
	}
	if !strings.Contains(p.stdout.String(), "stopped") {
		t.Fatalf("no clean stop:\n%s", p.stdout.String())
	}
}

// TestCrashDuringConcurrentUploads SIGKILLs the server three times while
// 16 writers upload (sizes from 1 byte to 700 KB, SSE-KMS by default,
// SSE-OSS on request, plain in a second bucket, and multipart uploads),
// runs fsck on the stopped data directory after every kill, restarts on
// it, and checks that every acknowledged object reads back byte-exact and
// that nothing else (no partial object) is visible.
func TestCrashDuringConcurrentUploads(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary and kills a process")
	}
	data := t.TempDir()
	buckets := []string{"crash-kms", "crash-plain"}
	type sent struct {
		bucket string
		sum    [32]byte
		acked  bool
	}
	var mu sync.Mutex
	objects := map[string]*sent{}
	p := startServe(t, data)
	c, err := oss.New(p.endpoint, procAK, procSK, oss.ForcePathStyle(true))
	if err != nil {
		t.Fatal(err)
	}
	for _, b := range buckets {
		if err := c.CreateBucket(b); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.SetBucketEncryption(buckets[0], oss.ServerEncryptionRule{SSEDefault: oss.SSEDefaultRule{SSEAlgorithm: "KMS"}}); err != nil {
		t.Fatal(err)
	}
	const rounds, writers, perRound = 3, 16, 40
	for round := range rounds {
		bs := []*oss.Bucket{p.ossBucket(t, buckets[0]), p.ossBucket(t, buckets[1])}
		ctx, stop := context.WithCancel(context.Background())
		var wg sync.WaitGroup
		for w := range writers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				rng := rand.New(rand.NewPCG(uint64(w), uint64(round)))
				for i := 0; ctx.Err() == nil; i++ {
					bi := (w + i) % 2
					key := fmt.Sprintf("r%d/w%02d/obj-%04d", round, w, i)
					body := make([]byte, 1+rng.IntN(700_000))
					for j := range body {
						body[j] = byte(rng.Uint32())
					}
					mu.Lock()
					objects[key] = &sent{bucket: buckets[bi], sum: sha256.Sum256(body)}
					mu.Unlock()
					var err error
					switch {
					case i%4 == 3 && len(body) > 200_000:
						err = multipartPut(bs[bi], key, body)
					case i%3 == 1:
						err = bs[bi].PutObject(key, bytes.NewReader(body), oss.ServerSideEncryption("AES256"))
					default:
						err = bs[bi].PutObject(key, bytes.NewReader(body))
					}
					if err == nil {
						mu.Lock()
						objects[key].acked = true
						mu.Unlock()
					}
				}
			}()
		}
		// Let some uploads land, then kill without warning.
		deadline := time.Now().Add(30 * time.Second)
		for {
			mu.Lock()
			n := 0
			for k, o := range objects {
				if o.acked && strings.HasPrefix(k, fmt.Sprintf("r%d/", round)) {
					n++
				}
			}
			mu.Unlock()
			if n >= perRound || time.Now().After(deadline) {
				break
			}
			time.Sleep(20 * time.Millisecond)
		}
		if err := p.cmd.Process.Kill(); err != nil {
			t.Fatal(err)
		}
		<-p.done
		stop()
		wg.Wait()
		// The stopped directory holds no integrity problem.
		if out, err := exec.Command(buildBinary(t), "fsck", "--data", data, "--plain-data").CombinedOutput(); err != nil {
			t.Fatalf("round %d: fsck after SIGKILL: %v\n%s", round, err, out)
		}
		p = startServe(t, data)
	}

	visible := map[string]bool{}
	for _, bucket := range buckets {
		b := p.ossBucket(t, bucket)
		marker := oss.Marker("")
		for {
			res, err := b.ListObjects(marker, oss.MaxKeys(1000))
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range res.Objects {
				visible[o.Key] = true
			}
			if !res.IsTruncated {
				break
			}
			marker = oss.Marker(res.NextMarker)
		}
	}
	acked := 0
	for key, o := range objects {
		if o.acked {
			acked++
			if !visible[key] {
				t.Errorf("acknowledged object %s is gone after the crash", key)
			}
		}
		if !visible[key] {
			continue
		}
		r, err := p.ossBucket(t, o.bucket).GetObject(key)
		if err != nil {
			t.Errorf("get %s after restart: %v", key, err)
			continue
		}
		h := sha256.New()
		_, err = io.Copy(h, r)
		r.Close()
		if err != nil || [32]byte(h.Sum(nil)) != o.sum {
			t.Errorf("%s reads back different bytes after the crash (err %v)", key, err)
		}
	}
	for key := range visible {
		if _, ok := objects[key]; !ok {
			t.Errorf("unexpected object %s visible after the crash", key)
		}
	}
	if acked < rounds*perRound {
		t.Fatalf("only %d uploads were acknowledged before the kills; the test proves little", acked)
	}
	t.Logf("%d objects sent, %d acknowledged, %d visible after %d kills", len(objects), acked, len(visible), rounds)
}

// multipartPut uploads body in parts of 100 KiB (the last one shorter).
func multipartPut(b *oss.Bucket, key string, body []byte) error {
	imur, err := b.InitiateMultipartUpload(key)
	if err != nil {
		return err
	}
	var parts []oss.UploadPart
	for n, off := 1, 0; off < len(body); n++ {
		end := min(off+100<<10, len(body))
		part, err := b.UploadPart(imur, bytes.NewReader(body[off:end]), int64(end-off), n)
		if err != nil {
			return err
		}
		parts = append(parts, part)
		off = end
	}
	_, err = b.CompleteMultipartUpload(imur, parts)
	return err
}
