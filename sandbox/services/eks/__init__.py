"""Amazon EKS emulator, layered as moto layers a service:

* ``models``: state objects and their wire shapes (botocore ``eks`` model);
* ``backend``: the state of every account, seeding, settling and the CloudTrail journal
  (what the control API reads and seeds);
* ``clusters``, ``addons``: the API operations as state methods raising ``AwsError``;
* ``responses``: the wire handler; routes come from the botocore model (``routing.py``);
* ``journal``: mutating calls as the CloudTrail events EventBridge delivers;
* ``vpccni``: the vpc-cni add-on's versions and configuration schema.

Why our own rather than moto: moto has no add-on API and cannot represent
``computeConfig``, add-on ``status``/``health`` or ``configurationValues`` exactly as
stored.
"""

from sandbox.services.eks.backend import EksBackend
from sandbox.services.eks.models import ADDON_STATUSES, CLUSTER_STATUSES, AddonSpec
from sandbox.services.eks.responses import OPERATIONS, EksResponses

__all__ = [
    "ADDON_STATUSES",
    "CLUSTER_STATUSES",
    "OPERATIONS",
    "AddonSpec",
    "EksBackend",
    "EksResponses",
]
