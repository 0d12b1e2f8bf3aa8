"""Guarded remediation: the pure planner (`plan`) and the UpdateAddon shell (`apply`)."""

from ..model import Action, Guard, Outcome, UpdateRequest
from .apply import remediate

__all__ = ["Action", "Guard", "Outcome", "UpdateRequest", "remediate"]
