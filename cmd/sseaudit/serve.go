package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/spf13/cobra"

	"github.com/sseaudit/sseaudit/embedded"
)

func newServeCommand(e env) *cobra.Command {
	var (
		addr, kmsAddr, dataDir, region, logFormat, usersFile, faultList, rootKeyFile string
		defaultSSE, adoptState                                                       bool
		masterRotate                                                                 time.Duration
		limits                                                                       embedded.Limits
		minRate                                                                      int64
	)
	cmd := &cobra.Command{
		Use:   "serve",
		Short: "Run the reference implementation (OSS/S3 and KMS endpoints) until interrupted",
		Long: `Run the reference implementation: an object storage endpoint that speaks
both the Alibaba Cloud OSS and the S3 API on one port (--addr), with real
AES-256 envelope encryption, and a KMS endpoint speaking the Alibaba Cloud KMS
API (2016-01-20) (--kms-addr). Everything is kept in --data, sealed under a
root key.

The root key comes from SSEAUDIT_ROOT_KEY (base64 of 32 bytes) or the
--root-key-file (default DATA/root.key, created 0600 on first start; keep it
outside DATA so that a copy of DATA alone opens nothing). The variable is
removed from the environment at start, so no child process inherits it. Root credentials come from
SSEAUDIT_ROOT_ACCESS_KEY_ID and SSEAUDIT_ROOT_ACCESS_KEY_SECRET; when unset
they are generated on first start, stored sealed in DATA and printed once.
--users FILE adds principals with their own keys and grants (see README).`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			logger, err := newLogger(e, logFormat)
			if err != nil {
				return err
			}
			if logFormat == "json" && e.jsonErrors != nil {
				*e.jsonErrors = true
			}
			fs, err := embedded.ParseFaults(faultList)
			if err != nil {
				return fmt.Errorf("--fault: %w", err)
			}
			ctx := cmd.Context()
			if addr == "" {
				addr = "-" // KMS only
			}
			lim, err := serveLimits(limits, minRate)
			if err != nil {
				return err
			}
			srv, err := embedded.Start(ctx, embedded.Config{
				DataDir: dataDir, Addr: addr, KMSAddr: kmsAddr, Region: region, UsersFile: usersFile, RootKeyFile: rootKeyFile, AdoptState: adoptState,
				DefaultSSE: defaultSSE, MasterKeyRotateEvery: masterRotate, Getenv: e.getenv, Logger: logger,
				Faults: fs, Limits: lim,
			})
			if err != nil {
				return err
			}
			if srv.Endpoint != "" {
				fmt.Fprintf(e.stdout, "oss/s3 endpoint: %s\n", srv.Endpoint)
			}
			fmt.Fprintf(e.stdout, "kms endpoint: %s\n", srv.KMSEndpoint)
			fmt.Fprintf(e.stdout, "region: %s\n", region)
			if srv.RootGenerated {
				// scan and conformance read OSS_* (oss) or AWS_* (s3), their
				// --kms-endpoint and the kms commands ALIBABA_CLOUD_*.
				fmt.Fprintf(e.stdout, "root credentials were generated and are shown only this once; for scan, audit and conformance (oss and s3) and the kms commands:\n")
				for _, v := range [][2]string{
					{"OSS_ACCESS_KEY_ID", srv.AccessKeyID}, {"OSS_ACCESS_KEY_SECRET", srv.AccessKeySecret},
					{"AWS_ACCESS_KEY_ID", srv.AccessKeyID}, {"AWS_SECRET_ACCESS_KEY", srv.AccessKeySecret},
					{"ALIBABA_CLOUD_ACCESS_KEY_ID", srv.AccessKeyID}, {"ALIBABA_CLOUD_ACCESS_KEY_SECRET", srv.AccessKeySecret},
				} {
					fmt.Fprintf(e.stdout, "  export %s=%s\n", v[0], v[1])
				}
				fmt.Fprintf(e.stdout, "  (or set %s and %s before starting)\n", embedded.EnvRootAccessKeyID, embedded.EnvRootAccessKeySecret)
			} else {
				fmt.Fprintf(e.stdout, "root access key id: %s (set it and its secret as OSS_ACCESS_KEY_ID/OSS_ACCESS_KEY_SECRET, AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY and ALIBABA_CLOUD_ACCESS_KEY_ID/ALIBABA_CLOUD_ACCESS_KEY_SECRET for scan, conformance and kms)\n", srv.AccessKeyID)
			}
			<-ctx.Done()
			logger.Info("shutting down")
			if err := srv.Close(context.WithoutCancel(ctx)); err != nil {
				return err
			}
			fmt.Fprintln(e.stdout, "stopped")
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&addr, "addr", "127.0.0.1:9000", "OSS/S3 listen address (port 0 picks a free port; empty serves KMS only)")
	f.StringVar(&kmsAddr, "kms-addr", "127.0.0.1:9001", "KMS listen address (port 0 picks a free port)")
	f.StringVar(&dataDir, "data", "sseaudit-data", "data directory (keys, keystore, audit log)")
	f.StringVar(&rootKeyFile, "root-key-file", "", "root key file when SSEAUDIT_ROOT_KEY is unset (default DATA/root.key; recommended outside --data)")
	f.BoolVar(&adoptState, "adopt-state", false, "authenticate the keystore, keyring and users of a data directory written by an older build as they are (check them first)")
	f.StringVar(&region, "region", "cn-hangzhou", "region the endpoint serves")
	f.StringVar(&usersFile, "users", "", "YAML file of extra principals and their grants (kept sealed in --data)")
	f.BoolVar(&defaultSSE, "default-sse", false, "AWS behaviour since 2023: new buckets default to AES256 and deleting the rule resets it")
	f.DurationVar(&masterRotate, "master-key-rotate-every", 0, "age at which the OSS-managed master key rotates (default 2160h)")
	// Hidden: deliberate defects that prove the conformance suite can fail.
	f.StringVar(&faultList, "fault", "", "comma-separated deliberate faults (testing the conformance suite only)")
	_ = f.MarkHidden("fault")
	f.StringVar(&logFormat, "log-format", "text", "log format on stderr: text or json")
	def := embedded.DefaultLimits()
	f.DurationVar(&limits.ReadHeaderTimeout, "read-header-timeout", def.ReadHeaderTimeout, "longest a client may take to send a request's headers (0 = no limit)")
	f.DurationVar(&limits.IdleTimeout, "idle-timeout", def.IdleTimeout, "longest a keep-alive connection may wait for its next request (0 = no limit)")
	f.DurationVar(&limits.BodyStallTimeout, "body-stall-timeout", def.BodyStallTimeout, "longest wait for the next bytes of a request body; a stalled upload is cut and its temp file removed (0 = no limit)")
	f.Int64Var(&minRate, "body-min-rate", def.BodyMinRate, "slowest average a request body may arrive at, in bytes per second, after one --body-stall-timeout of grace (0 = no limit)")
	f.DurationVar(&limits.WriteStallTimeout, "write-stall-timeout", def.WriteStallTimeout, "longest a response write may block on a client that does not read (0 = no limit)")
	f.IntVar(&limits.MaxConns, "max-conns", def.MaxConns, "open connections per endpoint; more wait in the listen backlog (0 = no limit)")
	f.IntVar(&limits.MaxUploadsPerPrincipal, "max-uploads-per-principal", def.MaxUploadsPerPrincipal, "concurrent uploads (PutObject, UploadPart, copies) of one principal; more get 503 (0 = no limit)")
	return cmd
}

// serveLimits turns the limit flags into embedded.Limits: on the command
// line 0 means no limit, in Limits a negative value does (0 takes the
// default there).
func serveLimits(l embedded.Limits, minRate int64) (embedded.Limits, error) {
	durs := []struct {
		name string
		d    *time.Duration
	}{
		{"--read-header-timeout", &l.ReadHeaderTimeout}, {"--idle-timeout", &l.IdleTimeout},
		{"--body-stall-timeout", &l.BodyStallTimeout}, {"--write-stall-timeout", &l.WriteStallTimeout},
	}
	for _, f := range durs {
		switch {
		case *f.d < 0:
			return l, fmt.Errorf("%s %s: use a positive duration, or 0 for no limit", f.name, *f.d)
		case *f.d == 0:
			*f.d = -1
		}
	}
	nums := []struct {
		name string
		n    *int
	}{{"--max-conns", &l.MaxConns}, {"--max-uploads-per-principal", &l.MaxUploadsPerPrincipal}}
	for _, f := range nums {
		switch {
		case *f.n < 0:
			return l, fmt.Errorf("%s %d: use a positive number, or 0 for no limit", f.name, *f.n)
		case *f.n == 0:
			*f.n = -1
		}
	}
	switch {
	case minRate < 0:
		return l, fmt.Errorf("--body-min-rate %d: use a positive number of bytes per second, or 0 for no limit", minRate)
	case minRate == 0:
		l.BodyMinRate = -1
	default:
		l.BodyMinRate = minRate
	}
	return l, nil
}

func newLogger(e env, format string) (*slog.Logger, error) {
	switch format {
	case "text":
		return slog.New(slog.NewTextHandler(e.stderr, nil)), nil
	case "json":
		return slog.New(slog.NewJSONHandler(e.stderr, nil)), nil
	}
	return nil, fmt.Errorf("--log-format %q: use text or json", format)
}
