"""Amazon EKS emulator, layered as moto layers a service:

* ``models``: state objects and their wire shapes (botocore ``eks`` model);
* ``store``: the state of every account, seeding and settling (control API side);
* ``clusters``, ``addons``: the API operations as state methods raising ``AwsError``;
* ``responses``: the wire handler; routes come from the botocore model (``routing.py``).

Why our own rather than moto: moto has no add-on API and cannot represent
``computeConfig``, add-on ``status``/``health`` or ``configurationValues`` exactly as
stored.
"""

from sandbox.eks.models import ADDON_STATUSES, CLUSTER_STATUSES, AddonSpec
from sandbox.eks.responses import OPERATIONS, EksEmulator
from sandbox.eks.store import EksStore

__all__ = [
    "ADDON_STATUSES",
    "CLUSTER_STATUSES",
    "OPERATIONS",
    "AddonSpec",
    "EksEmulator",
    "EksStore",
]
