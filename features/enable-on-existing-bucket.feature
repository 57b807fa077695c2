@rule-no-touch
Feature: Enable server-side encryption for an existing bucket
  Method 2 of the guide: the encryption method of a bucket that already holds
  objects is configured, changed or turned off. The default applies to objects
  uploaded afterwards only: "the configurations of the default encryption
  method for a bucket do not affect the encryption configurations of the
  existing objects in the bucket". Every object that existed before keeps its
  encryption, its bytes, its ETag and its last-modified time. Copying an
  object onto itself is the way to re-encrypt it under the current default.

  Scenario Outline: Configuring "<method>" for a bucket that already holds objects
    Given a bucket without default encryption
    And the bucket holds "plain.txt" uploaded without encryption settings
    And the bucket holds "aes.txt" uploaded asking for "OSS-managed"
    When I set the bucket's default encryption to "<method>"
    Then the bucket's default encryption reads back as "<method>"
    When I upload "new.txt" without encryption settings
    Then the upload response says the object is encrypted with "<method>"
    And reading "new.txt" reports it encrypted with "<method>"
    And "plain.txt" keeps encryption "none" and its original bytes, ETag and last-modified time
    And "aes.txt" keeps encryption "OSS-managed" and its original bytes, ETag and last-modified time

    @oss @none @oss-managed @rule-sse-header
    Examples: OSS, encryption turned off
      | method |
      | none   |

    @oss @oss-managed @rule-sse-header
    Examples: OSS, OSS-managed keys
      | method      |
      | OSS-managed |

    @oss @kms-default @oss-managed @kms @rule-sse-header
    Examples: OSS, KMS with the default key
      | method          |
      | KMS default key |

    @oss @kms-cmk @oss-managed @kms @rule-sse-header @rule-named-cmk
    Examples: OSS, KMS with a named key
      | method        |
      | KMS named key |

    @s3 @none @oss-managed @rule-sse-header
    Examples: S3, encryption turned off
      | method |
      | none   |

    @s3 @oss-managed @rule-sse-header
    Examples: S3, service-managed keys
      | method      |
      | OSS-managed |

    @s3 @kms-default @oss-managed @kms @rule-sse-header
    Examples: S3, KMS with the default key
      | method          |
      | KMS default key |

    @s3 @kms-cmk @oss-managed @kms @rule-sse-header @rule-named-cmk
    Examples: S3, KMS with a named key
      | method        |
      | KMS named key |

  Scenario Outline: Switching the default from "<from>" to "<to>" changes only new uploads
    Given a bucket without default encryption
    And the bucket holds "plain.txt" uploaded without encryption settings
    And the bucket's default encryption is set to "<from>"
    And the bucket holds "first.txt" uploaded without encryption settings
    When I change the bucket's default encryption to "<to>"
    Then the bucket's default encryption reads back as "<to>"
    And "plain.txt" keeps encryption "none" and its original bytes, ETag and last-modified time
    And "first.txt" keeps encryption "<from>" and its original bytes, ETag and last-modified time
    When I upload "second.txt" without encryption settings
    Then reading "second.txt" reports it encrypted with "<to>"

    @oss @oss-managed @kms-cmk @kms @rule-sse-header @rule-named-cmk
    Examples: OSS, from OSS-managed keys to a named KMS key
      | from        | to            |
      | OSS-managed | KMS named key |

    @oss @kms-cmk @kms-default @kms @rule-sse-header @rule-named-cmk
    Examples: OSS, from a named KMS key to the default KMS key
      | from          | to              |
      | KMS named key | KMS default key |

    @oss @kms-default @oss-managed @kms @rule-sse-header
    Examples: OSS, from the default KMS key to OSS-managed keys
      | from            | to          |
      | KMS default key | OSS-managed |

    @oss @oss-managed @none @rule-sse-header
    Examples: OSS, from OSS-managed keys to no encryption
      | from        | to   |
      | OSS-managed | none |

    @s3 @oss-managed @kms-cmk @kms @rule-sse-header @rule-named-cmk
    Examples: S3, from service-managed keys to a named KMS key
      | from        | to            |
      | OSS-managed | KMS named key |

    @s3 @kms-cmk @kms-default @kms @rule-sse-header @rule-named-cmk
    Examples: S3, from a named KMS key to the default KMS key
      | from          | to              |
      | KMS named key | KMS default key |

    @s3 @kms-default @oss-managed @kms @rule-sse-header
    Examples: S3, from the default KMS key to service-managed keys
      | from            | to          |
      | KMS default key | OSS-managed |

    @s3 @oss-managed @none @rule-sse-header
    Examples: S3, from service-managed keys to no encryption
      | from        | to   |
      | OSS-managed | none |

  Scenario Outline: Deleting the default rule leaves "<method>" objects encrypted
    Given a bucket whose default encryption is "<method>"
    And the bucket holds "old.txt" uploaded without encryption settings
    When I delete the bucket's default encryption
    Then the bucket has no default encryption rule
    And "old.txt" keeps encryption "<method>" and its original bytes, ETag and last-modified time
    When I upload "new.txt" without encryption settings
    Then reading "new.txt" reports it encrypted with "none"

    @oss @oss-managed @rule-sse-header
    Examples: OSS, OSS-managed keys
      | method      |
      | OSS-managed |

    @oss @kms-cmk @kms @rule-sse-header @rule-named-cmk
    Examples: OSS, KMS with a named key
      | method        |
      | KMS named key |

    @s3 @oss-managed @rule-sse-header
    Examples: S3, service-managed keys
      | method      |
      | OSS-managed |

    @s3 @kms-cmk @kms @rule-sse-header @rule-named-cmk
    Examples: S3, KMS with a named key
      | method        |
      | KMS named key |

  Scenario Outline: Copying an object onto itself re-encrypts it with the current default "<method>"
    Given a bucket without default encryption
    And the bucket holds "plain.txt" uploaded without encryption settings
    When I set the bucket's default encryption to "<method>"
    Then "plain.txt" keeps encryption "none" and its original bytes, ETag and last-modified time
    When I copy "plain.txt" onto itself without encryption settings
    Then the copy response says the object is encrypted with "<method>"
    And reading "plain.txt" reports it encrypted with "<method>"
    And downloading "plain.txt" returns exactly the uploaded bytes

    @oss @oss-managed @rule-sse-header
    Examples: OSS, OSS-managed keys
      | method      |
      | OSS-managed |

    @oss @kms-default @kms @rule-sse-header
    Examples: OSS, KMS with the default key
      | method          |
      | KMS default key |

    @oss @kms-cmk @kms @rule-sse-header @rule-named-cmk
    Examples: OSS, KMS with a named key
      | method        |
      | KMS named key |

    @s3 @oss-managed @rule-sse-header
    Examples: S3, service-managed keys
      | method      |
      | OSS-managed |

    @s3 @kms-default @kms @rule-sse-header
    Examples: S3, KMS with the default key
      | method          |
      | KMS default key |

    @s3 @kms-cmk @kms @rule-sse-header @rule-named-cmk
    Examples: S3, KMS with a named key
      | method        |
      | KMS named key |

  Scenario Outline: On a versioned bucket, re-encrypting by copy leaves the unencrypted original as an older version
    Given a bucket without default encryption
    And the bucket keeps object versions
    And the bucket holds "doc.txt" uploaded without encryption settings
    When I set the bucket's default encryption to "<method>"
    And I copy "doc.txt" onto itself without encryption settings
    Then reading "doc.txt" reports it encrypted with "<method>"
    And the bucket holds 2 versions of "doc.txt"
    And the older version of "doc.txt" still has encryption "none" and its original ETag and last-modified time

    @oss @oss-managed @versioning @rule-sse-header @rule-no-touch
    Examples: OSS, OSS-managed keys
      | method      |
      | OSS-managed |

    @oss @kms-default @kms @versioning @rule-sse-header @rule-no-touch
    Examples: OSS, KMS with the default key
      | method          |
      | KMS default key |

    @s3 @oss-managed @versioning @rule-sse-header @rule-no-touch
    Examples: S3, service-managed keys
      | method      |
      | OSS-managed |

    @s3 @kms-default @kms @versioning @rule-sse-header @rule-no-touch
    Examples: S3, KMS with the default key
      | method          |
      | KMS default key |

  Scenario Outline: Copying an object onto itself after the rule is deleted stores it unencrypted
    Given a bucket whose default encryption is "OSS-managed"
    And the bucket holds "old.txt" uploaded without encryption settings
    When I delete the bucket's default encryption
    And I copy "old.txt" onto itself without encryption settings
    Then the copy response says the object is encrypted with "none"
    And reading "old.txt" reports it encrypted with "none"
    And downloading "old.txt" returns exactly the uploaded bytes

    @oss @oss-managed @none
    Examples: OSS
      | dialect |
      | OSS     |

    @s3 @oss-managed @none
    Examples: S3
      | dialect |
      | S3      |
