@rule-sse-header
Feature: Encryption settings of an object override the bucket default
  A bucket's default encryption applies only to objects uploaded without
  encryption settings of their own. An upload or a copy that asks for a
  method is encrypted with that method, and the bucket keeps its default for
  the next upload without settings.

  Scenario Outline: An upload asking for "<requested>" in a bucket whose default is "<default>"
    Given a bucket whose default encryption is "<default>"
    When I upload "override.txt" asking for "<requested>"
    Then the upload response says the object is encrypted with "<requested>"
    And reading "override.txt" reports it encrypted with "<requested>"
    And downloading "override.txt" returns exactly the uploaded bytes
    When I upload "default.txt" without encryption settings
    Then reading "default.txt" reports it encrypted with "<default>"

    @oss @none @oss-managed
    Examples: OSS, OSS-managed keys in a bucket without encryption
      | default | requested   |
      | none    | OSS-managed |

    @oss @oss-managed @kms-cmk @kms @rule-named-cmk
    Examples: OSS, a named KMS key in a bucket with OSS-managed keys
      | default     | requested     |
      | OSS-managed | KMS named key |

    @oss @kms-cmk @kms-default @kms @rule-named-cmk
    Examples: OSS, the default KMS key in a bucket with a named KMS key
      | default       | requested       |
      | KMS named key | KMS default key |

    @oss @kms-default @oss-managed @kms
    Examples: OSS, OSS-managed keys in a bucket with the default KMS key
      | default         | requested   |
      | KMS default key | OSS-managed |

    @s3 @none @oss-managed
    Examples: S3, service-managed keys in a bucket without encryption
      | default | requested   |
      | none    | OSS-managed |

    @s3 @oss-managed @kms-cmk @kms @rule-named-cmk
    Examples: S3, a named KMS key in a bucket with service-managed keys
      | default     | requested     |
      | OSS-managed | KMS named key |

    @s3 @kms-cmk @kms-default @kms @rule-named-cmk
    Examples: S3, the default KMS key in a bucket with a named KMS key
      | default       | requested       |
      | KMS named key | KMS default key |

    @s3 @kms-default @oss-managed @kms
    Examples: S3, service-managed keys in a bucket with the default KMS key
      | default         | requested   |
      | KMS default key | OSS-managed |

  Scenario Outline: A copy asking for "<requested>" into a bucket whose default is "<default>"
    Given a bucket whose default encryption is "<default>"
    And the bucket holds "source.txt" uploaded without encryption settings
    When I copy "source.txt" to "copy.txt" asking for "<requested>"
    Then the copy response says the object is encrypted with "<requested>"
    And reading "copy.txt" reports it encrypted with "<requested>"
    And downloading "copy.txt" returns exactly the uploaded bytes
    And "source.txt" keeps encryption "<default>" and its original bytes, ETag and last-modified time

    @oss @oss-managed @kms-cmk @kms @rule-named-cmk
    Examples: OSS, a named KMS key over OSS-managed keys
      | default     | requested     |
      | OSS-managed | KMS named key |

    @oss @kms-cmk @oss-managed @kms @rule-named-cmk
    Examples: OSS, OSS-managed keys over a named KMS key
      | default       | requested   |
      | KMS named key | OSS-managed |

    @s3 @oss-managed @kms-cmk @kms @rule-named-cmk
    Examples: S3, a named KMS key over service-managed keys
      | default     | requested     |
      | OSS-managed | KMS named key |

    @s3 @kms-cmk @oss-managed @kms @rule-named-cmk
    Examples: S3, service-managed keys over a named KMS key
      | default       | requested   |
      | KMS named key | OSS-managed |
