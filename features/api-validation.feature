Feature: Invalid encryption requests are refused with the dialect's error
  Only AES-256 is supported, as AES256 (OSS-managed keys) or KMS. A request
  naming anything else, a KMS key id together with AES256, or a bucket rule
  that is not well-formed XML is refused with the dialect's exact error code
  and HTTP status, and changes nothing: no object is stored and the bucket
  rule stays as it was. Reading the rule of a bucket that has none is
  answered with the dialect's "no rule" error.

  Scenario Outline: An upload naming the algorithm "<algorithm>" is refused
    Given a bucket without default encryption
    When I upload "doc.txt" with the encryption header "<algorithm>"
    Then the request is refused with status <status> and code "<code>"
    And the bucket holds no object "doc.txt"

    @oss
    Examples: OSS
      | algorithm | status | code                            |
      | AES128    | 400    | InvalidEncryptionAlgorithmError |
      | SM4       | 400    | InvalidEncryptionAlgorithmError |

    @s3
    Examples: S3
      | algorithm | status | code            |
      | AES128    | 400    | InvalidArgument |
      | SM4       | 400    | InvalidArgument |

  Scenario Outline: A bucket rule naming the algorithm "<algorithm>" is refused
    Given a bucket without default encryption
    When I try to set the bucket's default encryption to algorithm "<algorithm>"
    Then the request is refused with status <status> and code "<code>"
    And the bucket has no default encryption rule

    @oss
    Examples: OSS
      | algorithm | status | code                            |
      | AES128    | 400    | InvalidEncryptionAlgorithmError |
      | SM4       | 400    | InvalidEncryptionAlgorithmError |

    @s3
    Examples: S3
      | algorithm | status | code        |
      | AES128    | 400    | MalformedXML |
      | SM4       | 400    | MalformedXML |

  @oss @kms-default
  Scenario: An upload asking for KMS with SM4 data encryption is refused on OSS, because only AES-256 is supported
    Given a bucket without default encryption
    When I upload "doc.txt" asking for KMS with the data encryption "SM4"
    Then the request is refused with status 400 and code "InvalidEncryptionAlgorithmError"
    And the bucket holds no object "doc.txt"

  @oss @kms-default
  Scenario: A bucket rule asking for KMS with SM4 data encryption is refused on OSS, because only AES-256 is supported
    Given a bucket without default encryption
    When I try to set the bucket's default encryption to KMS with the data encryption "SM4"
    Then the request is refused with status 400 and code "InvalidEncryptionAlgorithmError"
    And the bucket has no default encryption rule

  @rule-key-id-aes256 @oss-managed
  Scenario Outline: A KMS key id together with AES256 is refused on an upload
    Given a bucket without default encryption
    When I upload "doc.txt" with the encryption header "AES256" and the key id "0b30658a-ed1a-4922-b8f7-a673ca9c0001"
    Then the request is refused with status 400 and code "InvalidArgument"
    And the bucket holds no object "doc.txt"

    @oss
    Examples: OSS
      | dialect |
      | OSS     |

    @s3
    Examples: S3
      | dialect |
      | S3      |

  @rule-key-id-aes256 @oss-managed
  Scenario Outline: A KMS key id together with AES256 is refused in a bucket rule
    Given a bucket without default encryption
    When I try to set the bucket's default encryption to algorithm "AES256" with the key id "0b30658a-ed1a-4922-b8f7-a673ca9c0001"
    Then the request is refused with status 400 and code "InvalidArgument"
    And the bucket has no default encryption rule

    @oss
    Examples: OSS
      | dialect |
      | OSS     |

    @s3
    Examples: S3
      | dialect |
      | S3      |

  @oss
  Scenario: A bucket rule that is not well-formed XML is refused on OSS
    Given a bucket without default encryption
    When I send this bucket encryption document:
      """
      <ServerSideEncryptionRule>
        <ApplyServerSideEncryptionByDefault>
          <SSEAlgorithm>AES256</SSEAlgorithm>
      """
    Then the request is refused with status 400 and code "MalformedXML"
    And the bucket has no default encryption rule

  @s3
  Scenario: A bucket rule that is not well-formed XML is refused on S3
    Given a bucket without default encryption
    When I send this bucket encryption document:
      """
      <ServerSideEncryptionConfiguration xmlns="http://s3.amazonaws.com/doc/2006-03-01/">
        <Rule>
          <ApplyServerSideEncryptionByDefault>
            <SSEAlgorithm>AES256</SSEAlgorithm>
      """
    Then the request is refused with status 400 and code "MalformedXML"
    And the bucket has no default encryption rule

  Scenario Outline: Reading the rule of a bucket that has none
    Given a bucket without default encryption
    When I read the bucket's default encryption rule
    Then the request is refused with status 404 and code "<code>"

    @oss @none
    Examples: OSS
      | code                            |
      | NoSuchServerSideEncryptionRule  |

    @s3 @none
    Examples: S3
      | code                                           |
      | ServerSideEncryptionConfigurationNotFoundError |
