Feature: Objects encrypted with KMS keys
  With KMS the data keys of objects come from a customer master key (CMK):
  the default key (alias/acs/oss on OSS; on S3 the store's own managed key,
  alias/aws/s3 on AWS) or a key named by its id. The CMK is recorded
  in the metadata of the encrypted object and returned with it; objects are
  decrypted only for users granted decryption with that key; only a key that
  is enabled, in the bucket's region and not pending deletion can be used;
  and rotating a key (or the OSS-managed master key) never makes an object
  unreadable, while new objects use the newest key version.

  @rule-sse-header @kms-cmk @kms @rule-named-cmk
  Scenario Outline: The named CMK is recorded with the object and returned with it
    Given a bucket without default encryption
    And a new customer master key in KMS
    When I upload "doc.txt" asking for "KMS named key"
    Then the upload response says the object is encrypted with "KMS named key"
    And reading "doc.txt" reports it encrypted with "KMS named key"
    And downloading "doc.txt" returns exactly the uploaded bytes

    @oss
    Examples: OSS
      | dialect |
      | OSS     |

    @s3
    Examples: S3
      | dialect |
      | S3      |

  @rule-sse-header @kms-default @kms
  Scenario Outline: Naming the default key by its alias records the key's real id
    Given a bucket without default encryption
    When I upload "doc.txt" asking for KMS with the default key's alias
    Then the upload response says the object is encrypted with "KMS default key"
    And reading "doc.txt" reports it encrypted with "KMS default key"
    And downloading "doc.txt" returns exactly the uploaded bytes

    @oss
    Examples: OSS
      | dialect |
      | OSS     |

    @s3
    Examples: S3
      | dialect |
      | S3      |

  @emulator @rule-at-rest
  Scenario Outline: A principal without decrypt permission on the key cannot read a "<method>" object
    Given a bucket whose default encryption is "<method>"
    And the bucket holds "secret.txt" uploaded without encryption settings
    And the bucket holds "aes.txt" uploaded asking for "OSS-managed"
    Then the principal "no-kms-decrypt" is refused downloading "secret.txt" with status 403 and code "AccessDenied"
    And the principal "no-kms-decrypt" can download "aes.txt"

    @oss @kms-default @oss-managed
    Examples: OSS, KMS with the default key
      | method          |
      | KMS default key |

    @oss @kms-cmk @oss-managed @kms
    Examples: OSS, KMS with a named key
      | method        |
      | KMS named key |

    @s3 @kms-default @oss-managed
    Examples: S3, KMS with the default key
      | method          |
      | KMS default key |

    @s3 @kms-cmk @oss-managed @kms
    Examples: S3, KMS with a named key
      | method        |
      | KMS named key |

  @kms-cmk @kms @rule-disabled-key @rule-named-cmk @rule-at-rest
  Scenario Outline: A disabled key stops reads and writes until it is enabled again
    Given a new customer master key in KMS
    And a bucket whose default encryption is "KMS named key"
    And the bucket holds "doc.txt" uploaded without encryption settings
    When the named key is disabled in KMS
    Then downloading "doc.txt" is refused with status <status> and code "<code>"
    And uploading "new.txt" without encryption settings is refused with status <status> and code "<code>"
    When the named key is enabled again in KMS
    Then downloading "doc.txt" returns exactly the uploaded bytes
    And uploading "new.txt" without encryption settings succeeds

    @oss
    Examples: OSS
      | status | code        |
      | 409    | KeyDisabled |

    @s3
    Examples: S3
      | status | code                  |
      | 400    | KMS.DisabledException |

  @kms-cmk @kms @rule-disabled-key @rule-named-cmk
  Scenario Outline: A disabled key cannot encrypt
    Given a bucket without default encryption
    And a customer master key that is disabled
    When I upload "doc.txt" asking for KMS with the disabled key
    Then the request is refused with status <status> and code "<code>"
    And the bucket holds no object "doc.txt"

    @oss
    Examples: OSS
      | status | code        |
      | 409    | KeyDisabled |

    @s3
    Examples: S3
      | status | code                  |
      | 400    | KMS.DisabledException |

  @kms-cmk @kms @rule-named-cmk
  Scenario Outline: A key pending deletion cannot encrypt until its deletion is cancelled
    Given a new customer master key in KMS
    And a bucket whose default encryption is "KMS named key"
    When the named key is scheduled for deletion in 7 days
    Then uploading "doc.txt" without encryption settings is refused with status <status> and code "<code>"
    When I upload "named.txt" asking for "KMS named key"
    Then the request is refused with status <status> and code "<code>"
    And the bucket holds no object "doc.txt"
    And the bucket holds no object "named.txt"
    When the named key's deletion is cancelled
    Then uploading "doc.txt" without encryption settings succeeds

    @oss
    Examples: OSS
      | status | code               |
      | 409    | KeyPendingDeletion |

    @s3
    Examples: S3
      | status | code                           |
      | 400    | KMS.KMSInvalidStateException   |

  @kms-cmk @rule-named-cmk
  Scenario Outline: A key that does not exist cannot encrypt
    Given a bucket without default encryption
    When I upload "doc.txt" asking for KMS with a key id that does not exist
    Then the request is refused with status <status> and code "<code>"
    And the bucket holds no object "doc.txt"

    @oss
    Examples: OSS
      | status | code        |
      | 404    | KeyNotFound |

    @s3
    Examples: S3
      | status | code                  |
      | 400    | KMS.NotFoundException |

  @kms-cmk @emulator @rule-named-cmk
  Scenario Outline: A key in another region than the bucket cannot encrypt
    Given a bucket without default encryption
    And a customer master key in a region other than the bucket's
    When I upload "doc.txt" asking for KMS with the key from the other region
    Then the request is refused with status <status> and code "<code>"
    And the bucket holds no object "doc.txt"

    @oss
    Examples: OSS
      | status | code        |
      | 404    | KeyNotFound |

    @s3
    Examples: S3
      | status | code                  |
      | 400    | KMS.NotFoundException |

  @kms-cmk @kms @emulator @rule-named-cmk @rule-at-rest
  Scenario Outline: Rotating the CMK keeps old objects readable and encrypts new ones with the new version
    Given a new customer master key in KMS
    And a bucket whose default encryption is "KMS named key"
    And the bucket holds "old.txt" uploaded without encryption settings
    When the named key is rotated in KMS
    And I upload "new.txt" without encryption settings
    Then downloading "old.txt" returns exactly the uploaded bytes
    And downloading "new.txt" returns exactly the uploaded bytes
    And "old.txt" is stored under the named key's version from before the rotation
    And "new.txt" is stored under the named key's new version

    @oss
    Examples: OSS
      | dialect |
      | OSS     |

    @s3
    Examples: S3
      | dialect |
      | S3      |

  @kms-cmk @kms @emulator @clock @rule-named-cmk @rule-at-rest
  Scenario Outline: Automatic rotation of the CMK keeps old objects readable and encrypts new ones with the new version
    Given a new customer master key in KMS with automatic rotation every 7 days
    And a bucket whose default encryption is "KMS named key"
    And the bucket holds "old.txt" uploaded without encryption settings
    When the clock moves forward by 8 days
    And I upload "new.txt" without encryption settings
    Then downloading "old.txt" returns exactly the uploaded bytes
    And downloading "new.txt" returns exactly the uploaded bytes
    And "old.txt" is stored under the named key's version from before the rotation
    And "new.txt" is stored under the named key's new version

    @oss
    Examples: OSS
      | dialect |
      | OSS     |

    @s3
    Examples: S3
      | dialect |
      | S3      |

  @oss-managed @emulator @rule-at-rest
  Scenario Outline: Rotating the OSS-managed master key keeps old objects readable and encrypts new ones with the new version
    Given a bucket whose default encryption is "OSS-managed"
    And the bucket holds "old.txt" uploaded without encryption settings
    When the OSS-managed master key is rotated
    And I upload "new.txt" without encryption settings
    Then downloading "old.txt" returns exactly the uploaded bytes
    And downloading "new.txt" returns exactly the uploaded bytes
    And "new.txt" is stored under a newer master key version than "old.txt"

    @oss
    Examples: OSS
      | dialect |
      | OSS     |

    @s3
    Examples: S3
      | dialect |
      | S3      |
