package server

import (
	"github.com/sseaudit/sseaudit/reference/kms"
	"github.com/sseaudit/sseaudit/reference/objstore"
	"github.com/sseaudit/sseaudit/reference/users"
)

// storeAuthorizer is the object store's Authorizer: bucket grants from the
// users file, and the KMS question answered by the emulator's decision
// (kms.Emulator.Authorized), which is users.Set.AuthorizeKMS with the
// key's current aliases, the same decision the KMS endpoint gets. The
// store asks it before calling KMS for a read; KMS asks the same function
// again inside the call, so a grant changed in between cannot be bypassed.
type storeAuthorizer struct {
	*users.Set
	kms *kms.Emulator
}

var _ objstore.Authorizer = storeAuthorizer{}

// CanDecrypt reports whether p may Decrypt with keyID.
func (a storeAuthorizer) CanDecrypt(p objstore.Principal, keyID string) bool {
	return a.kms.Authorized(p.Name, "Decrypt", keyID)
}
