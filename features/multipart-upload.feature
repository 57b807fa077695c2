@rule-sse-header
Feature: Multipart uploads are encrypted and say so at every step
  An object uploaded in parts is encrypted with the method asked for when
  the upload is initiated, or else with the bucket default. The responses to
  the initiation, to every part and to the completion all say how the object
  is encrypted, and the object downloads to the bytes of all its parts.
  Every part but the last has the dialect's minimum part size (100 KiB on
  OSS, 5 MiB on S3).

  Scenario Outline: A multipart upload into a bucket whose default is "<method>"
    Given a bucket whose default encryption is "<method>"
    When I upload "big.bin" in 3 parts without encryption settings
    Then the initiation, every part and the completion responses say the object is encrypted with "<method>"
    And reading "big.bin" reports it encrypted with "<method>"
    And downloading "big.bin" returns exactly the uploaded bytes

    @oss @oss-managed
    Examples: OSS, OSS-managed keys
      | method      |
      | OSS-managed |

    @oss @kms-default @kms
    Examples: OSS, KMS with the default key
      | method          |
      | KMS default key |

    @oss @kms-cmk @kms @rule-named-cmk
    Examples: OSS, KMS with a named key
      | method        |
      | KMS named key |

    @s3 @oss-managed
    Examples: S3, service-managed keys
      | method      |
      | OSS-managed |

    @s3 @kms-default @kms
    Examples: S3, KMS with the default key
      | method          |
      | KMS default key |

    @s3 @kms-cmk @kms @rule-named-cmk
    Examples: S3, KMS with a named key
      | method        |
      | KMS named key |

  Scenario Outline: A multipart upload asking for "<method>" in a bucket without default encryption
    Given a bucket without default encryption
    When I upload "big.bin" in 2 parts asking for "<method>"
    Then the initiation, every part and the completion responses say the object is encrypted with "<method>"
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
