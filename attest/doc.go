// Package attest makes a report directory tamper-evident: it lists every
// file of the directory with its SHA-256 digest in a manifest, signs the
// manifest with an Ed25519 key, and links each manifest to the one signed
// before it with the same key, so that an edited, removed, added or replaced
// file, an edited manifest, a signature made with another key, or a run
// dropped from the sequence is detected and named by Verify.
//
// Only the Go standard library is used (crypto/ed25519, crypto/sha256,
// crypto/x509 for the key file encoding).
//
// # Files
//
// Sign writes two files into the signed directory:
//
//	manifest.json  the Manifest, encoded as described below
//	manifest.sig   base64 (standard, padded) of the 64-byte Ed25519
//	               signature, followed by a newline
//
// # Construction
//
// The manifest bytes are the canonical encoding of Manifest: Go's
// encoding/json with two-space indentation (json.MarshalIndent(m, "", "  "))
// followed by one newline. Members appear in the fixed order of the struct
// fields, file entries are sorted by path (forward slashes, relative to the
// directory, never "..", never absolute), times are RFC 3339 in UTC. The
// manifest holds no signature member; the signature lives in manifest.sig.
//
// The signature is plain Ed25519 (RFC 8032, pure, no prehash, no context)
// over exactly the bytes of manifest.json as stored:
//
//	sig = Ed25519.Sign(priv, bytes(manifest.json))
//
// so any tool verifies it, e.g. with OpenSSL 3:
//
//	base64 -d manifest.sig > manifest.sig.bin
//	openssl pkeyutl -verify -pubin -inkey signing.pub -rawin \
//	    -in manifest.json -sigfile manifest.sig.bin
//
// The manifest carries the public key (public_key, base64 of the 32 raw
// bytes) and its key id (key_id: lowercase hex of the first 16 bytes of
// SHA-256 over the 32 raw public key bytes). The embedded key only proves
// integrity relative to itself: a forger can re-sign with their own key, so
// a verifier should pin the key (VerifyOptions.PublicKey or TrustedKeyID)
// or check the chain.
//
// # Chain
//
// Each manifest has a sequence number and a link to the manifest signed
// before it with the same key:
//
//	previous = {sequence: n-1, manifest_sha256: hex(SHA-256(bytes of the
//	            previous manifest.json)), signature: previous manifest.sig
//	            value (base64)}
//
// The first manifest has sequence 1 and no previous link. Because the link
// is inside the signed manifest, removing, reordering or rewriting an
// earlier run breaks the chain at the next one. Runs may be written to
// different directories: the signer keeps a chain log (ChainLog, chain.json
// beside the key, mode 0600) with the link of every manifest it signed, and
// Verify checks a manifest against the previous run's directory
// (VerifyOptions.PreviousDir) and/or the chain log (VerifyOptions.Chain).
//
// # Verification
//
// Verify reports every problem, not the first: a listed file modified,
// missing, or not a regular file; a file or directory present but not
// listed (added after signing, so the directory is not what was signed); an
// edited manifest; a replaced signature or untrusted key; a broken or
// skipped link. It treats the directory as hostile: no symbolic link inside
// it is followed (manifest.json and manifest.sig included, even a link that
// stays inside), a FIFO, device, socket or directory where a file is listed
// is named and never opened, a manifest entry that is absolute, holds ".."
// or is listed twice is refused, a file whose size differs from the listed
// one is not hashed and no file is hashed past its listed size, and a
// cancelled context stops the hashing between chunks of 1 MiB. The manifest
// (64 MiB), signature (4 KiB), chain log and key files are read up to a
// bound.
//
// # Key file
//
// LoadOrCreateKey stores the private key as a PEM "PRIVATE KEY" block
// (PKCS #8, the format openssl genpkey -algorithm ed25519 writes) with mode
// 0600 in a 0700 directory, and the public key beside it (path + ".pub",
// PEM "PUBLIC KEY", PKIX). A key file readable or writable by group or
// others is refused. A user-supplied key may also be base64 of the 32-byte
// seed or the 64-byte private key.
package attest
