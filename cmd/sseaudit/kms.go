package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"

	kmssdk "github.com/alibabacloud-go/kms-20160120/v3/client"
	"github.com/alibabacloud-go/tea/tea"
	"github.com/spf13/cobra"

	"github.com/sseaudit/sseaudit/kmsclient"
)

// Environment read by `sseaudit kms`.
const (
	envKMSEndpoint     = "SSEAUDIT_KMS_ENDPOINT"
	envAccessKeyID     = "ALIBABA_CLOUD_ACCESS_KEY_ID"
	envAccessKeySecret = "ALIBABA_CLOUD_ACCESS_KEY_SECRET"
)

const (
	defaultKMSEndpoint = "http://127.0.0.1:9001"
	defaultKMSRegion   = "cn-hangzhou"
	listKeysPageSize   = 100
)

// kmsTarget is what the persistent flags select.
type kmsTarget struct {
	endpoint, region string
}

// newKMSCommand returns `sseaudit kms`: key management against a KMS
// endpoint speaking the Alibaba Cloud KMS API (the reference server or the
// real service), through the official SDK.
func newKMSCommand() *cobra.Command {
	t := &kmsTarget{}
	cmd := &cobra.Command{
		Use:   "kms",
		Short: "Manage keys on a KMS endpoint (Alibaba Cloud KMS API)",
		Long: `Manage keys on a KMS endpoint speaking the Alibaba Cloud KMS API 2016-01-20,
such as the one ` + "`sseaudit serve`" + ` runs.

Credentials come from ` + envAccessKeyID + ` and ` + envAccessKeySecret + `;
` + "`sseaudit serve`" + ` prints the root credentials on its first start.`,
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	endpoint := os.Getenv(envKMSEndpoint)
	if endpoint == "" {
		endpoint = defaultKMSEndpoint
	}
	pf := cmd.PersistentFlags()
	pf.StringVar(&t.endpoint, "endpoint", endpoint, "KMS endpoint, http(s)://host[:port] (env "+envKMSEndpoint+")")
	pf.StringVar(&t.region, "region", defaultKMSRegion, "region of the KMS endpoint")

	cmd.AddCommand(
		kmsCreateKeyCommand(t),
		kmsKeyCommand(t, "describe-key KEY", "Print a key's metadata as JSON", func(c *kmssdk.Client, key string, out io.Writer) error {
			r, err := c.DescribeKey(&kmssdk.DescribeKeyRequest{KeyId: tea.String(key)})
			if err != nil {
				return err
			}
			return printJSON(out, r.Body.KeyMetadata)
		}),
		kmsListKeysCommand(t),
		kmsKeyCommand(t, "enable-key KEY", "Enable a key", func(c *kmssdk.Client, key string, _ io.Writer) error {
			_, err := c.EnableKey(&kmssdk.EnableKeyRequest{KeyId: tea.String(key)})
			return err
		}),
		kmsKeyCommand(t, "disable-key KEY", "Disable a key", func(c *kmssdk.Client, key string, _ io.Writer) error {
			_, err := c.DisableKey(&kmssdk.DisableKeyRequest{KeyId: tea.String(key)})
			return err
		}),
		kmsScheduleDeletionCommand(t),
		kmsKeyCommand(t, "cancel-key-deletion KEY", "Cancel a scheduled key deletion", func(c *kmssdk.Client, key string, _ io.Writer) error {
			_, err := c.CancelKeyDeletion(&kmssdk.CancelKeyDeletionRequest{KeyId: tea.String(key)})
			return err
		}),
		kmsKeyCommand(t, "rotate-key KEY", "Create a new key version (manual rotation) and print its id", func(c *kmssdk.Client, key string, out io.Writer) error {
			r, err := c.CreateKeyVersion(&kmssdk.CreateKeyVersionRequest{KeyId: tea.String(key)})
			if err != nil {
				return err
			}
			_, err = fmt.Fprintln(out, tea.StringValue(r.Body.KeyVersion.KeyVersionId))
			return err
		}),
		&cobra.Command{
			Use:   "create-alias ALIAS KEY",
			Short: "Bind an alias (alias/...) to a key",
			Args:  cobra.ExactArgs(2),
			RunE: func(cmd *cobra.Command, args []string) error {
				return t.run(func(c *kmssdk.Client) error {
					_, err := c.CreateAlias(&kmssdk.CreateAliasRequest{AliasName: tea.String(args[0]), KeyId: tea.String(args[1])})
					return err
				})
			},
		},
	)
	return cmd
}

func kmsCreateKeyCommand(t *kmsTarget) *cobra.Command {
	var description, rotation string
	cmd := &cobra.Command{
		Use:   "create-key",
		Short: "Create a symmetric key and print only its id",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			req := &kmssdk.CreateKeyRequest{}
			if description != "" {
				req.Description = tea.String(description)
			}
			if rotation != "" {
				req.EnableAutomaticRotation = tea.Bool(true)
				req.RotationInterval = tea.String(rotation)
			}
			return t.run(func(c *kmssdk.Client) error {
				r, err := c.CreateKey(req)
				if err != nil {
					return err
				}
				_, err = fmt.Fprintln(cmd.OutOrStdout(), tea.StringValue(r.Body.KeyMetadata.KeyId))
				return err
			})
		},
	}
	cmd.Flags().StringVar(&description, "description", "", "key description")
	cmd.Flags().StringVar(&rotation, "rotation-interval", "", "enable automatic rotation with this interval, e.g. 30d or 2592000s (7d to 730d)")
	return cmd
}

func kmsListKeysCommand(t *kmsTarget) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "list-keys",
		Short: "List all keys (every page): one key id per line, or JSON with --json",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			type keyRef struct {
				KeyId  string `json:"KeyId"`
				KeyArn string `json:"KeyArn"`
			}
			keys := []keyRef{}
			err := t.run(func(c *kmssdk.Client) error {
				for page := int32(1); ; page++ {
					r, err := c.ListKeys(&kmssdk.ListKeysRequest{PageNumber: tea.Int32(page), PageSize: tea.Int32(listKeysPageSize)})
					if err != nil {
						return err
					}
					var got []*kmssdk.ListKeysResponseBodyKeysKey
					if r.Body.Keys != nil {
						got = r.Body.Keys.Key
					}
					for _, k := range got {
						keys = append(keys, keyRef{KeyId: tea.StringValue(k.KeyId), KeyArn: tea.StringValue(k.KeyArn)})
					}
					if len(got) == 0 || len(keys) >= int(tea.Int32Value(r.Body.TotalCount)) {
						return nil
					}
				}
			})
			if err != nil {
				return err
			}
			out := cmd.OutOrStdout()
			if asJSON {
				return printJSON(out, keys)
			}
			for _, k := range keys {
				if _, err := fmt.Fprintln(out, k.KeyId); err != nil {
					return err
				}
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print a JSON array of {KeyId, KeyArn}")
	return cmd
}

func kmsScheduleDeletionCommand(t *kmsTarget) *cobra.Command {
	var days int32
	cmd := &cobra.Command{
		Use:   "schedule-key-deletion KEY --days N",
		Short: "Schedule a key's deletion after a waiting period of N days (7 to 366)",
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return t.run(func(c *kmssdk.Client) error {
				_, err := c.ScheduleKeyDeletion(&kmssdk.ScheduleKeyDeletionRequest{KeyId: tea.String(args[0]), PendingWindowInDays: tea.Int32(days)})
				return err
			})
		},
	}
	cmd.Flags().Int32Var(&days, "days", 0, "waiting period in days (7 to 366)")
	_ = cmd.MarkFlagRequired("days")
	return cmd
}

// kmsKeyCommand builds a subcommand taking one KEY argument (id, alias or ARN).
func kmsKeyCommand(t *kmsTarget, use, short string, do func(c *kmssdk.Client, key string, out io.Writer) error) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		Args:  cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return t.run(func(c *kmssdk.Client) error { return do(c, args[0], cmd.OutOrStdout()) })
		},
	}
}

// run builds the SDK client and runs fn, turning failures into
// "sseaudit kms: <Code>: <Message>" errors.
func (t *kmsTarget) run(fn func(c *kmssdk.Client) error) error {
	id, secret := os.Getenv(envAccessKeyID), os.Getenv(envAccessKeySecret)
	if id == "" || secret == "" {
		return fmt.Errorf("sseaudit kms: missing credentials: set %s and %s (`sseaudit serve` prints the root credentials on its first start)",
			envAccessKeyID, envAccessKeySecret)
	}
	c, err := kmsclient.New(t.endpoint, t.region, id, secret)
	if err != nil {
		return fmt.Errorf("sseaudit kms: %w", err)
	}
	err = fn(c)
	if err == nil {
		return nil
	}
	if se, ok := kmsclient.AsServiceError(err); ok {
		return fmt.Errorf("sseaudit kms: %s: %s", se.Code, se.Message)
	}
	var sdkErr *tea.SDKError
	if errors.As(err, &sdkErr) && tea.StringValue(sdkErr.Code) != "" {
		return fmt.Errorf("sseaudit kms: %s: %s", tea.StringValue(sdkErr.Code), tea.StringValue(sdkErr.Message))
	}
	return fmt.Errorf("sseaudit kms: request to %s failed: %w (is `sseaudit serve` running there? set --endpoint or SSEAUDIT_KMS_ENDPOINT)", t.endpoint, err)
}

func printJSON(w io.Writer, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return err
	}
	_, err = fmt.Fprintf(w, "%s\n", b)
	return err
}
