Feature: Enable server-side encryption when creating a bucket
  Method 1 of the guide: the encryption method is chosen when the bucket is
  created. Whatever is chosen, the bucket's rule must read back exactly as
  chosen, an object uploaded without settings of its own must be encrypted
  with it, every response must say so (naming the KMS key by its real id,
  never by an alias), and the object must download to the bytes uploaded.

  The methods are:
    none             no server-side encryption
    OSS-managed      AES-256 with keys the storage service manages
    KMS default key  KMS with the default customer master key alias/acs/oss
    KMS named key    KMS with a customer master key created for the scenario

  Scenario Outline: A bucket created with encryption "<method>" encrypts new objects with it
    When I create a bucket with server-side encryption "<method>"
    Then the bucket's default encryption reads back as "<method>"
    When I upload "report.csv" without encryption settings
    Then the upload response says the object is encrypted with "<method>"
    And reading "report.csv" reports it encrypted with "<method>"
    And downloading "report.csv" returns exactly the uploaded bytes

    @oss @none
    Examples: OSS, no encryption
      | method |
      | none   |

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

    @s3 @none
    Examples: S3, no encryption
      | method |
      | none   |

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
