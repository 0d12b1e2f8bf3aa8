"""Guarded remediation: the pure planner (`plan`) and the UpdateAddon shell (`apply`)."""

from .apply import remediate
from .plan import Action, Guard, Outcome, UpdateRequest

__all__ = ["Action", "Guard", "Outcome", "UpdateRequest", "remediate"]
