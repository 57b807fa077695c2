@rule-sse-header
Feature: Range reads of encrypted objects return exactly the requested bytes
  Encryption must be invisible to readers: a request for a byte range of an
  encrypted object returns exactly those bytes of the original content (206
  with the matching Content-Range), wherever the range starts and ends, and
  the response says how the object is encrypted.

  Scenario Outline: Byte ranges of an object encrypted with "<method>"
    Given a bucket whose default encryption is "<method>"
    And the bucket holds "range.bin" of 200 KiB uploaded without encryption settings
    Then each of these byte ranges of "range.bin" returns exactly the requested bytes, encrypted with "<method>":
      | first  | last   |
      | 0      | 0      |
      | 0      | 65535  |
      | 65535  | 65536  |
      | 65520  | 131100 |
      | 100000 | 150000 |
      | 204799 | 204799 |
      | 150000 | end    |

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

  Scenario Outline: Byte ranges across the parts of a multipart object encrypted with "<method>"
    Given a bucket whose default encryption is "<method>"
    And the bucket holds "parts.bin" uploaded in 2 parts without encryption settings
    Then byte ranges of "parts.bin" that cross the boundary between its parts return exactly the requested bytes, encrypted with "<method>"

    @oss @oss-managed
    Examples: OSS, OSS-managed keys
      | method      |
      | OSS-managed |

    @oss @kms-default @kms
    Examples: OSS, KMS with the default key
      | method          |
      | KMS default key |

    @s3 @oss-managed
    Examples: S3, service-managed keys
      | method      |
      | OSS-managed |

    @s3 @kms-default @kms
    Examples: S3, KMS with the default key
      | method          |
      | KMS default key |
