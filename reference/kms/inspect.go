package kms

// Inspect returns the metadata of the key ref names in region (a key id, an
// alias or an ARN, as every operation accepts) without authorizing,
// auditing, applying due lazy events or creating the OSS service key. It
// exists for protocol front ends that must complete the answer to a call
// the emulator has just authorized and performed on that same key: the AWS
// KMS endpoint compares Decrypt's and ReEncrypt's optional KeyId with the
// key the blob named, and reports ScheduleKeyDeletion's DeletionDate. It
// must never be used to answer a caller directly, which would bypass the
// Authorizer.
func (e *Emulator) Inspect(region, ref string) (KeyMetadata, bool) {
	e.mu.RLock()
	defer e.mu.RUnlock()
	rs := e.st.regions[region]
	if rs == nil {
		return KeyMetadata{}, false
	}
	t := &txn{e: e, region: region, rs: rs, now: e.clock.Now().UTC(), readOnly: true}
	k, err := t.lookup(ref, "KeyId")
	if err != nil {
		return KeyMetadata{}, false
	}
	return t.metadata(k), true
}
