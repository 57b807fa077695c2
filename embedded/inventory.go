package embedded

import (
	"context"
	"errors"
	"time"

	"github.com/sseaudit/sseaudit/reference/auth"
	"github.com/sseaudit/sseaudit/reference/invreport"
	"github.com/sseaudit/sseaudit/reference/objstore"
)

// InventoryOptions tune RunInventory.
type InventoryOptions struct {
	// RowsPerFile splits the report's data files (default one million
	// rows each), so tests can make reports of several files.
	RowsPerFile int
}

// InventoryReport says what RunInventory wrote: the destination bucket,
// the manifest.json's key, the data files' keys, the rows and the
// report's time.
type InventoryReport = invreport.Report

// RunInventory runs bucket's inventory configuration id now, as OSS and
// S3 do daily or weekly: it writes a report (data files, then
// manifest.checksum and manifest.json) into the configuration's
// destination bucket, in the layout of the dialect that put the
// configuration. The report's time is the server's clock.
func (r *Reference) RunInventory(ctx context.Context, bucket, id string, opts InventoryOptions) (InventoryReport, error) {
	if r.srv.Store == nil {
		return InventoryReport{}, errors.New("embedded: no object store (KMS only)")
	}
	now := time.Now()
	if r.clock != nil {
		now = r.clock.Now()
	}
	return invreport.Run(ctx, r.srv.Store, objstore.Principal{Name: auth.RootPrincipal}, bucket, id,
		invreport.Options{Now: now, RowsPerFile: opts.RowsPerFile})
}
