"""Lambda code read from a per-region bucket named by parameters (the release template).

Why: a template deployed by the console, StackSets, Control Tower customizations or
Landing Zone Accelerator cannot use CDK assets (they live in the ``cdk-hnb659fds-*``
bootstrap bucket of the deploying account). It takes the code location from two
parameters instead. The bucket name is ``<CodeBucketPrefix>-<AWS::Region>``, because
"the Amazon S3 bucket ... must be in the same AWS Region as your function" while it may
belong to another account (AWS Lambda Developer Guide, "Deploying Lambda functions as
.zip file archives"; API reference ``FunctionCode.S3Bucket``): one bucket per region,
the pattern of Automated Security Response on AWS and of ``cdk-stacksets``.
"""

from __future__ import annotations

from aws_cdk import Annotations, Aws, Fn
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from constructs import Construct

from infra.setting_parameters import cfn_parameter

CODE_BUCKET_PREFIX_PARAMETER = "CodeBucketPrefix"
CODE_KEY_PARAMETER = "CodeKey"

# S3 bucket names: 3-63 characters, lower case, digits, dots and hyphens, starting and
# ending with a letter or digit (S3 User Guide, "General purpose bucket naming rules").
# The longest region name today is 14 characters plus the hyphen, so a prefix of at most
# 48 characters keeps every "<prefix>-<region>" within 63.
BUCKET_PREFIX_PATTERN = r"^[a-z0-9][a-z0-9.-]{1,46}[a-z0-9]$"
OBJECT_KEY_PATTERN = r"^[A-Za-z0-9!_.*'()/-]+\.zip$"


def regional_bucket_name(prefix: str) -> str:
    """``<prefix>-<AWS::Region>`` as a CloudFormation token (Fn::Join)."""
    return Fn.join("-", [prefix, Aws.REGION])


class CodeFromParameters:
    """``EksNetpolAuditorStack(code=CodeFromParameters(key))``: the code named by parameters.

    Called with the stack, it creates ``CodeBucketPrefix`` and ``CodeKey`` there.
    ``default_key`` is the key of this release's zip, so the template deploys its own
    code unless ``CodeKey`` is overridden.
    """

    def __init__(self, default_key: str) -> None:
        self.default_key = default_key

    def __call__(self, stack: Construct) -> lambda_.Code:
        prefix = cfn_parameter(
            stack,
            CODE_BUCKET_PREFIX_PARAMETER,
            allowed_pattern=BUCKET_PREFIX_PATTERN,
            constraint_description="an S3 bucket name prefix (lower case, digits, '.', '-').",
        )
        key = cfn_parameter(
            stack,
            CODE_KEY_PARAMETER,
            default=self.default_key,
            allowed_pattern=OBJECT_KEY_PATTERN,
            constraint_description="an S3 object key ending in .zip.",
        )
        bucket = s3.Bucket.from_bucket_name(
            stack, "CodeBucket", regional_bucket_name(prefix.value_as_string)
        )
        # No object version needed: the key names the zip by its SHA-256, so new code is
        # a new key and CloudFormation updates the function.
        Annotations.of(bucket).acknowledge_warning(
            "@aws-cdk/aws-lambda:codeFromBucketObjectVersionNotSpecified",
            "CodeKey is content-addressed (SHA-256 in the name): new code is a new key.",
        )
        return lambda_.Code.from_bucket(bucket, key.value_as_string)
