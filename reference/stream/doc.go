// Package stream implements the at-rest data format of the reference
// object store: a versioned, key-committing, chunked AES-256-GCM streaming
// AEAD. Each object is encrypted under its own random 256-bit data key
// (envelope encryption; wrapping that key is not this package's job).
//
// The package holds only the data format: key derivation, header,
// chunking, sealing and opening, sequential and range decryption, and the
// size arithmetic. It MUST NOT generate, wrap, store or log data keys,
// MUST NOT define primitives of its own (it composes crypto/hkdf,
// crypto/aes, crypto/cipher and crypto/subtle from the standard library),
// MUST NOT panic on any input, and MUST NOT ever return plaintext that
// did not pass authentication.
//
// # Construction
//
// The construction is STREAM (Hoang, Reyhanitabar, Rogaway, Vizár, "Online
// Authenticated-Encryption and its Nonce-Reuse Misuse-Resistance",
// CRYPTO 2015) instantiated like Google Tink's AES-GCM-HKDF streaming AEAD
// (per-stream key from HKDF with a random salt, nonce = random prefix ||
// chunk counter || last-chunk flag), with two additions: a key commitment
// in the header, and the header as associated data of every chunk.
//
//	Encrypt(dataKey[32], identity, plaintext):
//	    salt      = random(32)
//	    prefix    = random(7)
//	    info      = "sseaudit/stream/v1" || BE64(len(identity)) || identity
//	    okm       = HKDF-SHA256(ikm=dataKey, salt=salt, info=info, L=64)
//	    encKey    = okm[0:32]
//	    commit    = okm[32:64]
//	    header    = "SSAS" || 0x01 || 16 || salt || prefix || commit   // 77 bytes
//	    split plaintext into P_0 .. P_n:
//	        |P_i| = ChunkSize (64 KiB) for i < n,
//	        1 <= |P_n| <= ChunkSize (|P_n| = 0 only for an empty plaintext)
//	    for i in 0..n:
//	        nonce_i = prefix || BE32(i) || (i == n ? 0x01 : 0x00)  // 12 bytes
//	        C_i     = AES-256-GCM-Seal(encKey, nonce_i, P_i, aad=header) // |P_i|+16
//	    return header || C_0 || ... || C_n
//
//	Decrypt(dataKey, identity, stream):
//	    parse header strictly (magic, version == 1, exponent == 16)
//	    recompute okm; if !ConstantTimeEqual(okm[32:64], header.commit): fail (ErrKeyCommitment)
//	    for each chunk i, in order: Open with nonce_i and aad=header;
//	        release P_i only after its tag verified
//	    the chunk read last (the one at end of input) must verify with flag 0x01
//
// Readers also accept a final chunk holding 0 bytes after full chunks (the
// layout stays unambiguous from the size alone), although Writer never
// produces one; EncryptedSize describes what Writer produces.
//
// Why each part is there:
//
//   - A fresh 32-byte salt gives every stream its own encKey, so chunks
//     cannot be spliced between streams even under the same data key, and
//     GCM's per-key nonce limits apply to one stream only.
//   - The chunk index in the nonce detects reordering, dropping and
//     duplicating chunks. The final flag detects truncation at a chunk
//     boundary and appending after the final chunk: a non-final chunk
//     does not verify as final and vice versa.
//   - The header is the associated data of every chunk, so any change to
//     it (for instance the nonce prefix, which is not an HKDF input) fails
//     authentication of chunk 0, and a header from another stream fails too.
//   - The identity (a canonical encoding of bucket, object key, upload id,
//     part number and version id chosen by the caller) is bound into the
//     HKDF info, length-prefixed so that the encoding is injective: a stream
//     copied to another identity does not decrypt.
//   - AES-GCM is not key-committing: a ciphertext can be built that
//     decrypts validly under two different keys (Len, Grubbs, Ristenpart,
//     "Partitioning Oracle Attacks", USENIX Security 2021; Albertini et al.,
//     "How to Abuse and Fix Authenticated Encryption Without Key
//     Commitment", USENIX Security 2022). The 32-byte commitment, a second
//     HKDF output that is public and independent of encKey, is compared in
//     constant time before any chunk is opened. Finding a second
//     (dataKey, identity) with the same salt and commitment requires an
//     HMAC-SHA256 collision, so a substituted or wrong data key is rejected
//     with ErrKeyCommitment and nothing is decrypted (compare the
//     commitment scheme of the AWS Encryption SDK).
//   - The magic and version byte make the format self-identifying and
//     versioned; the chunk-size exponent is fixed to 16 in version 1 and
//     any other value is rejected.
//
// # Limits and nonce bounds
//
// The chunk index is a 32-bit counter that must not wrap, so a stream has
// at most 2^32-1 chunks and at most MaxPlaintextSize = (2^32-1)*64 KiB
// bytes of plaintext (256 TiB - 64 KiB); Writer fails with ErrTooLarge
// before exceeding it and readers refuse longer streams. Within a stream
// the nonces are distinct by construction (a counter plus a flag that is
// set once), so GCM nonce reuse cannot occur; GCM's limits on messages per
// key (2^32 for random nonces) and on bytes per message (about 64 GiB,
// against 64 KiB per chunk) are never approached, because the key itself
// is fresh per stream. The random nonce prefix is defence in depth should
// a salt ever repeat. Even a maximum-size stream is 2^44 AES blocks under
// one key, a birthday-bound advantage of about 2^-40; typical objects are
// far smaller. Salt collisions among 2^48 streams under one data key have
// probability below 2^-160.
//
// # Security contract
//
// Given a data key unknown to the adversary and a correct identity, a
// Reader or range reader returns only bytes that the holder of the data
// key wrote for that identity, each at its original offset, and reports an
// error otherwise. Sequential decryption releases each chunk as soon as it
// verifies, so the length of the object (truncation) is only proven when
// Read returns io.EOF. The format hides the plaintext but not its length
// (DecryptedSize reveals it exactly), and it provides no forward secrecy or
// key rotation: whoever holds the data key can decrypt and forge.
//
// Callers MUST call Writer.Close; MUST use a fresh random data key per
// object (streams under a reused key are still separated by the salt, but
// key compromise then spans objects); MUST pass byte-identical identities
// to the writer and the reader; MUST NOT treat data read before an error as
// a complete object; MUST take the encrypted size given to NewRangeReader
// from trusted metadata, since a range that stops short of the final
// chunk cannot detect truncation beyond it; and MUST NOT use a
// deterministic WithRand source outside tests. Writers and readers are not
// safe for concurrent use.
package stream
