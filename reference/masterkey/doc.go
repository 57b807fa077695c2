// Package masterkey holds the OSS-managed master keyring behind SSE-OSS
// ("OSS uses data keys to encrypt objects ... and master keys that are
// regularly rotated to encrypt data keys"). It seals and unseals per-object
// data keys under numbered master key versions, rotates by age and by use
// count, keeps every old version for decryption, and persists itself sealed
// under the root key. It must not touch object data and must never expose
// master key material outside this package.
//
// Construction (sealed data key, format 1):
//
//	header    = 0x01 || BE32(version) || salt(32, random)
//	wrapKey   = HKDF-SHA256(ikm=master[version], salt=salt, info="sseaudit/sse-oss/v1/wrap")
//	nonce     = random(12)
//	sealedKey = header || nonce || AES-256-GCM-Seal(wrapKey, nonce, dataKey, aad=header || binding)
//
// binding is the caller's canonical object identity (bucket, object key,
// upload or version id), so a sealed key copied onto another object does not
// unseal. Each wrap uses its own HKDF subkey, so the NIST SP 800-38D bound of
// 2^32 random-nonce invocations applies to nothing long-lived. Rotation by
// count (MaxWraps) is still enforced as defence in depth and because it is
// what the seed document promises; the count is reserved ahead in blocks and
// persisted before use, so a crash can only over-count, never under-count.
//
// On disk (keyring.json, mode 0600, replaced atomically):
//
//	{"format":"sseaudit-masterkeys/v1","root_key_id":..., "active":N,
//	 "versions":[{"version":1,"created":...,"sealed":base64(rootkey.Seal(
//	     "sse-oss-master", material, aad="sse-oss-master/v<N>"))}, ...],
//	 "wraps_reserved":..., "rotate_every":"2160h0m0s", "max_wraps":...}
package masterkey
