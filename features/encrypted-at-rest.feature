@emulator @rule-at-rest
Feature: Encrypted objects are stored encrypted
  "OSS encrypts the object and stores the encrypted object." What reaches the
  disk of the storage service is checked directly, through the reference
  implementation's admin view: an object written with an encryption method
  has no plaintext in any of its data files, and its stored encryption
  record names the algorithm and the key. An object written without
  encryption is stored as it is.

  Scenario Outline: An object written with "<method>" is not stored in plaintext
    Given a bucket whose default encryption is "<method>"
    When I upload "secret.txt" holding a recognisable plaintext without encryption settings
    Then no data file of "secret.txt" contains the plaintext
    And the stored encryption record of "secret.txt" names "<method>"
    And downloading "secret.txt" returns exactly the uploaded bytes

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

  Scenario Outline: A multipart object written with "<method>" is not stored in plaintext
    Given a bucket whose default encryption is "<method>"
    When I upload "secret.bin" holding a recognisable plaintext in 2 parts without encryption settings
    Then no data file of "secret.bin" contains the plaintext
    And the stored encryption record of "secret.bin" names "<method>"
    And downloading "secret.bin" returns exactly the uploaded bytes

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

  Scenario Outline: An object written without encryption is stored as it is
    Given a bucket without default encryption
    When I upload "public.txt" holding a recognisable plaintext without encryption settings
    Then "public.txt" is stored exactly as uploaded, without an encryption record

    @oss @none
    Examples: OSS
      | dialect |
      | OSS     |

    @s3 @none
    Examples: S3
      | dialect |
      | S3      |
