"""The code bucket of the home region, readable by the organization only.

Why: StackSets creates each member's auditor function from a zip in S3, and Lambda reads
code only from a bucket in the function's own region (Lambda Developer Guide,
"Deploying Lambda functions as .zip file archives"), so the release lives in
``<prefix>-<region>``. Member accounts read it through a bucket policy limited to the
organization (condition ``aws:PrincipalOrgID``, IAM User Guide "AWS global condition
context keys"); such a policy is not "public" in S3's sense, so Block Public Access stays
on (S3 User Guide, "The meaning of public"). SSE-S3 rather than SSE-KMS: a KMS key would
need a key policy for every principal of the organization, and the objects are release
artifacts whose integrity SHA256SUMS proves, not secrets.

With ``ExistingCodeBucketPrefix`` set, nothing is created and that prefix is used.
"""

from __future__ import annotations

from aws_cdk import Acknowledgment, Aws, Duration, Fn, RemovalPolicy, Validations
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from eks_netpol_auditor.names import PRODUCT
from infra.org_parameters import OrgParameters
from infra.release_code import regional_bucket_name

# Every release is uploaded under this key prefix (infra.release.ReleaseNames).
RELEASE_KEY_PREFIX = f"{PRODUCT}/"
NONCURRENT_VERSION_EXPIRY = Duration.days(90)


class OrgCodeBucket(Construct):
    """Either the created bucket ``eks-netpol-auditor-<account>-<region>`` or an existing one.

    ``prefix`` is the bucket name prefix (``<prefix>-<region>``) to hand to the auditor
    template; ``bucket_name`` the home region's bucket.
    """

    def __init__(self, scope: Construct, construct_id: str, params: OrgParameters) -> None:
        super().__init__(scope, construct_id)
        created_prefix = f"{PRODUCT}-{Aws.ACCOUNT_ID}"
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            bucket_name=regional_bucket_name(created_prefix),
            encryption=s3.BucketEncryption.S3_MANAGED,
            enforce_ssl=True,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            versioned=True,
            # Old versions of a key are only kept for a rollback window; release keys are
            # versioned paths, so current objects never expire.
            lifecycle_rules=[
                s3.LifecycleRule(
                    noncurrent_version_expiration=NONCURRENT_VERSION_EXPIRY,
                    abort_incomplete_multipart_upload_after=Duration.days(7),
                )
            ],
            removal_policy=RemovalPolicy.RETAIN,
        )
        cfn_bucket = self.bucket.node.default_child
        assert isinstance(cfn_bucket, s3.CfnBucket)
        # S3 events to EventBridge (no custom resource): a new release upload is visible
        # to whoever wants to act on it (Control Tower control CT.S3.PR.4).
        cfn_bucket.add_property_override(
            "NotificationConfiguration.EventBridgeConfiguration.EventBridgeEnabled", True
        )
        self.bucket.add_to_resource_policy(
            iam.PolicyStatement(
                sid="OrganizationReadsReleases",
                principals=[iam.AnyPrincipal()],
                actions=["s3:GetObject"],
                resources=[self.bucket.arn_for_objects(f"{RELEASE_KEY_PREFIX}*")],
                conditions={
                    "StringEquals": {"aws:PrincipalOrgID": params.organization_id.value_as_string}
                },
            )
        )
        for child in (self.bucket, self.bucket.policy):
            if child is not None:
                cfn = child.node.default_child
                assert cfn is not None
                cfn.cfn_options.condition = params.create_bucket  # type: ignore[attr-defined]
        self.prefix = Fn.condition_if(
            params.create_bucket.logical_id,
            created_prefix,
            params.existing_prefix.value_as_string,
        ).to_string()
        self.bucket_name = regional_bucket_name(self.prefix)
        self._acknowledge()

    def object_url(self, key: str) -> str:
        """The virtual-hosted HTTPS URL of ``key`` in the home region's bucket."""
        return Fn.join(
            "",
            ["https://", self.bucket_name, ".s3.", Aws.REGION, ".", Aws.URL_SUFFIX, "/", key],
        )

    def _acknowledge(self) -> None:
        """cdk-nag and cfn-guard (Control Tower controls) findings that are deliberate."""
        no_log = (
            "Release artifacts only, readable by the organization; who read them is in "
            "CloudTrail data events if you enable them, and SHA256SUMS proves their "
            "integrity. A log bucket would itself need a log bucket."
        )
        reasons = {
            "AwsSolutions-S1": no_log,
            "cdk-validator-cfnguard::s3_bucket_logging_enabled_check": no_log,
            "cdk-validator-cfnguard::s3_bucket_default_encryption_kms_check": "SSE-S3: "
            "SSE-KMS would need a key policy for every principal of the organization that "
            "reads the code; the objects are public-to-the-org release artifacts, not "
            "secrets, and SHA256SUMS proves their integrity.",
            "cdk-validator-cfnguard::s3_bucket_object_lock_enabled_check": "Releases are "
            "written once under versioned keys and the bucket is versioned; Object Lock "
            "could never be turned off again and would keep the organization from "
            "removing the bucket with the product.",
        }
        for rule, reason in reasons.items():
            Validations.of(self.bucket).acknowledge(Acknowledgment(id=rule, reason=reason))
