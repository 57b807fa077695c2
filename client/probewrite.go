package client

import "context"

// ProbeWrite asks whether the caller may write bucket/key with sse
// without changing anything: it initiates a multipart upload with sse
// (which the services authorize as a write of the object, bucket policies
// and KMS key grants included) and aborts it at once. A refusal comes
// back as the initiation's *Error; nil means the write would be let in.
func (c *Client) ProbeWrite(ctx context.Context, bucket, key string, sse *SSE) error {
	ctx, cancel, cp := c.call(ctx, false)
	defer cancel()
	id, _, err := c.b.initiateMultipart(ctx, bucket, key, PutOptions{SSE: sse})
	if err != nil {
		return c.fail("InitiateMultipartUpload", bucket, key, cp, err)
	}
	if err := c.b.abortMultipart(uncaptured(ctx), bucket, key, id); err != nil {
		return c.fail("AbortMultipartUpload", bucket, key, cp, err)
	}
	return nil
}
