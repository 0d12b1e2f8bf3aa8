"""AWS Security Hub (CSPM) emulator for the local AWS sandbox, layered like moto's services.

Why this exists: moto's Security Hub ignores GetFindings filters and has no BatchUpdateFindings,
so it cannot catch the mistakes that matter for a finding publisher (stale ``UpdatedAt``, the
wrong ``ProductArn`` region, relying on BatchImportFindings to reopen a resolved finding,
filters that OR where the caller expected AND, throttling, an organization's view). It
implements the operations the product uses, strictly:

* BatchImportFindings
  https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_BatchImportFindings.html
  and the user guide page "BatchImportFindings for finding providers"
  https://docs.aws.amazon.com/securityhub/latest/userguide/finding-update-batchimportfindings.html
* BatchUpdateFindings
  https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_BatchUpdateFindings.html
* GetFindings
  https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_GetFindings.html
* ListMembers, GetAdministratorAccount
  https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_ListMembers.html
* DescribeHub (enablement checks, per account and Region)
  https://docs.aws.amazon.com/securityhub/1.0/APIReference/API_DescribeHub.html

Modules, by role:

* ``asff``: ASFF validation and field helpers (syntax page, quotas page, botocore model);
* ``provider_fields``: how FindingProviderFields and their top-level twins are stored;
* ``filters``: the GetFindings filter language and sort criteria;
* ``organization``: administrator, members, cross-Region aggregation (who sees what);
* ``throttle``: request quotas per account, Region and operation;
* ``backend``: the state (findings, enablement, organization, ingestion events) and the rules
  that change it, raising ``sandbox.errors.AwsError``;
* ``responses``: the wire format of each operation and ``SecurityHubResponses``.

Shapes, enums and error codes follow the botocore model
(``botocore.session.get_session().get_service_model('securityhub')``, checked against
botocore 1.44.5). Where AWS's behaviour is not documented the code says so and picks the
stricter reading, so that code passing here does not rely on leniency AWS may not have.

Throttling: the model's ``LimitExceededException`` (HTTP 429) *is* in botocore's throttling
list (``botocore.retries.standard.ThrottledRetryableChecker._THROTTLED_ERROR_CODES``), so
``retries={"mode": "standard"}`` (and "adaptive") retry it as a throttle with backoff; legacy
mode retries it too because of the generic HTTP 429 rule in ``botocore/data/_retry.json``. The
client does not need a hand-written retry loop; it does need to handle a call that still fails
after ``total_max_attempts``. Caveat: Security Hub also uses LimitExceededException for
non-rate quotas (e.g. too many insights), which botocore will retry as well.
"""

from sandbox.services.securityhub.asff import default_product_arn, parse_timestamp
from sandbox.services.securityhub.backend import SecurityHubBackend
from sandbox.services.securityhub.responses import SecurityHubResponses

__all__ = ["SecurityHubBackend", "SecurityHubResponses", "default_product_arn", "parse_timestamp"]
