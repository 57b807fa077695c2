// Package policy is sseaudit's policy engine: it evaluates Rego v1 policies
// (the built-in ones of package policies plus user directories) with
// embedded OPA over a snapshot, bucket by bucket, and returns findings
// (package findings).
//
// # Loading
//
// Load parses every policy file with its # METADATA annotations, compiles
// them once and prepares two queries (and two more for the packages of user
// policies, see Sandbox): every package's "deny" rules (run once per
// bucket) and "scan_deny" rules (run once per scan). Each deny or scan_deny
// definition needs a rule-scope METADATA block:
//
//	# METADATA
//	# title: Bucket has no default encryption
//	# description: ...
//	# custom:
//	#   id: SSE-001                 # stable, unique
//	#   severity: high              # critical, high, medium, low, info
//	#   category: encryption        # encryption, key, conformance, coverage, governance
//	#   resource_type: bucket       # bucket, object, key, scan
//	#   remediation: {text: ..., cli: ...}
//	#   controls:                   # each {framework, version, id, title}
//	#     - {framework: NIST SP 800-53, version: Rev. 5, id: SC-28, title: Protection of Information at Rest}
//	#   aggregate_by: [kms_key_id]  # object rules only, optional (see below)
//	deny contains finding if { ... }
//
// All four members of a control are required (strings; quote ids such as
// "5.8"). A rule maps to the controls it tests; only a coverage rule maps
// to none, and says so with "controls: []".
//
// Reports aggregate an object rule's findings: one per rule, bucket and the
// values of the observed members custom.aggregate_by names (none: one per
// bucket), with every object listed in a side file (findings.Aggregator).
// The engine itself yields one finding per object.
//
// A rule yields objects {rule, resource, message, observed, expected,
// evidence}: rule is its own custom.id (rego.metadata.rule().custom.id),
// resource is {type: bucket|object|key|scan, bucket, key, version_id,
// region, kms_key_id}; the engine adds the metadata, the canonical resource
// UID and the stable id (findings.ID), first/last seen and waivers.
//
// # Input of a deny rule (one chunk of a bucket, or one bucket)
//
// A bucket's objects are evaluated in chunks of at most Options.ChunkSize
// (DefaultChunkSize, 1,000) objects, so memory does not grow with a
// bucket. The deny rules of a package whose deny rules are all about
// objects (resource_type object), and every user package, see each chunk:
// input.bucket.objects holds the chunk's objects (a bucket up to the chunk
// size is one evaluation with all of them, as a bucket without objects
// is). The built-in packages about buckets and keys are evaluated once per
// bucket, after its last chunk, with no objects and input.stats, a bounded
// summary of all of them; data.sseaudit.lib's bucket_* helpers read it, and
// fall back to the objects without it (stock opa eval). A user rule about
// a bucket as a whole sees a larger bucket a chunk at a time: it must not
// count the bucket's objects; its finding is reported once.
//
//	bucket           the bucket exactly as in the snapshot file (package
//	                 snapshot's JSON), with its "objects" array (the chunk)
//	keys             {id: Key}: every KMS key of the snapshot by key id, ARN
//	                 and resolved id, preferring the record of the bucket's
//	                 region
//	previous         null, or the same bucket in the previous snapshot with
//	                 "objects" as {key: {version_id ("" if none): Object}}:
//	                 the previous records of the chunk's objects (for the
//	                 built-in object rules, only those whose state changed:
//	                 all the drift rule reads)
//	previous_scan    null, or {scan_id, started_at, finished_at, complete}
//	rewrites         (chunk evaluations only) null, or {key: [{key, before,
//	                 after, at}]}: the objects of the chunk that
//	                 'sseaudit remediate apply' rewrote on purpose since the
//	                 previous scan started, as its journal recorded them
//	                 (history.Rewrite; before and after are {version_id,
//	                 etag, sse, kms_key_id}). Given only with a previous
//	                 snapshot and a HistoryLookup that is a RewriteLookup
//	                 (*history.DB); the drift rule does not report a change
//	                 from exactly before to exactly after
//	rule_first_seen  null, or when scan history first saw the bucket's
//	                 current default rule (HistoryLookup.RuleFirstSeen)
//	profile          {name, allowed_methods, require_customer_cmk,
//	                 allowed_cmk_ids, allowed_algorithms, max_rotation_days}
//	provenance       the snapshot's provenance
//	index            positions in bucket.objects: {by_method: {method: [i]},
//	                 by_kms_key: {key id: [i]}, no_method: [i] (no method
//	                 member, or not a string), failed: [i], changed: [i] or
//	                 null}; changed lists the objects also in previous whose
//	                 etag, last_modified, size, storage_class, method, sse,
//	                 kms_key_id or data_encryption differ. Rules use it (via
//	                 data.sseaudit.lib) to look only at the objects that matter;
//	                 lib computes the same lists when it is absent.
//	stats            (the bucket evaluation only) {objects, bytes,
//	                 by_method: {method: n}, no_method: n, by_kms_key:
//	                 {key id: n}, failed: n, failed_sample: [{key, error}]
//	                 (the first five failed objects by key)}
//
// # Key references (the snapshot/profile contract)
//
// A bucket rule, an object and an allowed_cmk_ids entry may name a KMS key
// by id, by alias (alias/x), or by ARN (acs:kms:REGION:ACCOUNT:key/ID,
// arn:aws:kms:REGION:ACCOUNT:key/ID, or an alias ARN). The rules compare
// references after resolution (data.sseaudit.lib.key_names): a reference
// stands for itself, the id inside a key ARN, and, for each key record of
// the snapshot found under those names (input.keys is indexed by key_id,
// arn and resolved_key_id), that record's key_id, arn and resolved_key_id.
// Two references match when these sets meet. So:
//
//   - ids and key ARNs match each other without KMS;
//   - an alias matches only through a key record whose key_id is the alias
//     and whose resolved_key_id is the key KMS resolved it to. The scanner
//     writes one for every alias a bucket or object names, and for every
//     alias in scan.Config.ExtraKeyRefs: the caller must pass the profile's
//     allowed_cmk_ids there, or an allow-listed alias matches nothing and
//     the keys it stands for are reported as not allowed (never silently
//     allowed). An alias is resolved per region (the record of the
//     bucket's region is preferred); an alias ARN is never reduced to the
//     bare alias.
//
// Findings about a key (resource type key) name its resolved id, so one
// key named differently by several buckets or objects is one resource.
//
// # Input of a scan_deny rule
//
//	scan        {schema, provenance, coverage, finished_at, complete,
//	            keys (list), default_kms_key_ids, known_error_buckets,
//	            buckets (user packages only)}
//	keys, profile, provenance   as above
//
// default_kms_key_ids are the distinct KMS key references the buckets'
// default rules name and known_error_buckets the resources of the
// bucket-scope coverage errors that are buckets of the snapshot, both
// sorted: what the built-in scan rules need of the buckets, bounded by the
// keys and the errors. buckets, every bucket without its objects, is
// built only for the scan_deny rules of user packages: as Rego terms it
// costs about 1 KB a bucket (100,000 buckets: 120 MB), so the built-in
// rules never get it (they compute the two lists from it when it is there
// instead, as under stock opa eval). Its buckets carry their raw response
// bodies (encryption.raw, acl.raw, policy.raw) as input.bucket does: given
// a lean summary (snapshot.ReadLeanHeaders, which the pipeline reads), an
// engine with user scan_deny rules reads the full headers again for them.
//
// # Evaluation
//
// EvaluateSnapshot reads the snapshot's summary first (the keys come last
// in the file), then streams its objects (snapshot.StreamObjects): a
// reader gathers each chunk's raw JSON, workers parse it straight into AST
// values (jsonast.go) and evaluate the object rules on it, and the units
// are delivered in the snapshot's order (chunk.go); the bucket rules run
// as each bucket's last chunk is delivered. A previous snapshot is read in
// step (both list buckets in name order), a bucket ahead, into an index of
// 24 bytes an object (prev.go): memory grows with the previous snapshot's
// largest bucket at that rate, not with its objects. The summary may be
// lean (HeadedFileSource with snapshot.ReadLeanHeaders): the raw response
// bodies input.bucket carries (the built-in rules put them in findings'
// evidence) then come from the header the stream reads before each
// bucket's objects (snapshot.ObjectVisitor.Header), held while that
// bucket is evaluated only; the findings are those of a full summary.
// EvaluateStream hands
// the per-object findings on chunk by chunk; EvaluateSnapshot keeps them
// all.
//
// # Sandbox
//
// Every policy is compiled without the built-ins of DeniedBuiltins: the
// network (http.send, net.lookup_ip_addr, JSON schemas with remote refs),
// the process environment (opa.runtime), the clock and randomness (findings
// must follow from the snapshot alone), and a few whose output can be
// exponential in one step; a call is a load error naming the file and
// line. User policies (Options.ExtraDirs) are bounded under
// Options.Sandbox, each bound failing the load or the evaluation with a
// *SandboxError naming file, line and rule:
//
//   - Files (userfiles.go): only regular *.rego files reached through real
//     directories are read, each through a size bound (4 MiB, 8 MiB in
//     all); a symbolic link, FIFO or device is refused unread.
//   - Before anything is compiled (userchecks.go, nesting.go): no rule in
//     data.sseaudit or any built-in package (user modules are compiled with
//     the built-in ones; reading them, import data.sseaudit.lib, is fine);
//     no with that replaces a built-in function or puts one in place of
//     another; no number literal beyond MaxDigits; no value that nests or
//     shares other values beyond MaxElements, across rule heads, functions,
//     locals and literals (OPA's type checker and evaluator take time
//     exponential in those, in steps nothing can stop). Compile itself
//     runs under CompileTimeout and the caller's context.
//   - Evaluation: user policies are evaluated in queries of their own, one
//     at a time, with a time bound per evaluation (one bucket, or the scan
//     rules) and per scan, a heap-growth bound watched every 2 ms, and
//     bounded stand-ins for the built-ins that build values (sprintf,
//     concat, replace, json.marshal, numbers.range, ...) or numbers (the
//     arithmetic operators, sum, product, to_number, units.parse, ...: no
//     number beyond MaxDigits).
//
// The built-in policies are trusted: they run unbounded, in parallel.
package policy
