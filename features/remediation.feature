@rule-sse-header
Feature: Remediation re-encrypts existing objects in place, losing nothing
  'sseaudit remediate apply' re-encrypts what a scan found unencrypted by
  copying each object onto itself with the encryption asked for: one copy
  below a size threshold, a multipart copy (UploadPartCopy) above it. The
  copy keeps the object's user metadata, content headers, tags, ACL,
  storage class and bytes, and is conditional on the ETag the scan saw, so
  an object changed since the scan is skipped and never overwritten. In a
  versioned bucket the rewrite is a new version; the unencrypted original
  stays as a noncurrent version (nothing is deleted) and is reported.
  After each copy, remediation reads the object back and verifies the
  encryption the responses report: a store that leaves the encryption
  headers out or uses another key than the one asked for fails here.

  Scenario Outline: Remediation to "<method>" keeps metadata, tags, ACL, storage class and content
    Given a bucket without default encryption
    And the bucket holds "doc.txt" with user metadata, content headers, tags, a public-read ACL and an infrequent-access storage class, uploaded without encryption settings
    And the bucket holds "plain.bin" uploaded without encryption settings
    When I remediate the bucket's objects to "<method>"
    Then the remediation rewrote "doc.txt" with a single copy, and verified it
    And the remediation rewrote "plain.bin" with a single copy, and verified it
    And reading "doc.txt" reports it encrypted with "<method>"
    And "doc.txt" keeps its user metadata, content headers, tags, ACL, storage class and bytes
    And downloading "plain.bin" returns exactly the uploaded bytes

    @oss @oss-managed
    Examples: OSS, OSS-managed keys
      | method      |
      | OSS-managed |

    @oss @kms-cmk @kms @rule-named-cmk
    Examples: OSS, KMS with a named key
      | method        |
      | KMS named key |

    @s3 @oss-managed
    Examples: S3, service-managed keys
      | method      |
      | OSS-managed |

    @s3 @kms-cmk @kms @rule-named-cmk
    Examples: S3, KMS with a named key
      | method        |
      | KMS named key |

  Scenario Outline: A large object is remediated to "<method>" through a multipart copy
    Given a bucket without default encryption
    And the bucket holds "big.bin" uploaded in 2 parts without encryption settings
    And a remediation plan to "<method>" is made from the bucket's objects
    When I apply the remediation plan, copying objects of 100 KiB or more in parts
    Then the remediation rewrote "big.bin" with a multipart copy, and verified it
    And reading "big.bin" reports it encrypted with "<method>"
    And downloading "big.bin" returns exactly the uploaded bytes

    @oss @oss-managed
    Examples: OSS, OSS-managed keys
      | method      |
      | OSS-managed |

    @oss @kms-cmk @kms @rule-named-cmk
    Examples: OSS, KMS with a named key
      | method        |
      | KMS named key |

    @s3 @oss-managed
    Examples: S3, service-managed keys
      | method      |
      | OSS-managed |

    @s3 @kms-cmk @kms @rule-named-cmk
    Examples: S3, KMS with a named key
      | method        |
      | KMS named key |

  Scenario Outline: An object modified after the scan is skipped, not overwritten
    Given a bucket without default encryption
    And the bucket holds "a.txt" uploaded without encryption settings
    And a remediation plan to "OSS-managed" is made from the bucket's objects
    When I upload "a.txt" without encryption settings
    And I apply the remediation plan
    Then the remediation skipped "a.txt" as changed since the scan
    And reading "a.txt" reports it encrypted with "none"
    And downloading "a.txt" returns exactly the uploaded bytes

    @oss @oss-managed @none
    Examples: OSS
      | dialect |
      | OSS     |

    @s3 @oss-managed @none
    Examples: S3
      | dialect |
      | S3      |

  Scenario Outline: In a versioned bucket the unencrypted original stays as a noncurrent version, and is reported
    Given a bucket without default encryption
    And the bucket keeps object versions
    And the bucket holds "v.txt" uploaded without encryption settings
    When I remediate the bucket's objects to "<method>"
    Then the remediation rewrote "v.txt" with a single copy, and verified it
    And reading "v.txt" reports it encrypted with "<method>"
    And the bucket holds 2 versions of "v.txt"
    And the remediation reports the original of "v.txt" kept unencrypted as a noncurrent version, with its original ETag
    And downloading "v.txt" returns exactly the uploaded bytes

    @oss @oss-managed @versioning
    Examples: OSS, OSS-managed keys
      | method      |
      | OSS-managed |

    @s3 @oss-managed @versioning
    Examples: S3, service-managed keys
      | method      |
      | OSS-managed |
