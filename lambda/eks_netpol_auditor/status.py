"""Security Hub's Compliance.Status vocabulary, below every model that carries a verdict
(`model` for the first control, `incluster.model` for the second), so neither imports the
other."""

from enum import StrEnum


class ComplianceStatus(StrEnum):
    """Security Hub's Compliance.Status vocabulary (ASFF)."""

    PASSED = "PASSED"
    FAILED = "FAILED"
    WARNING = "WARNING"
    NOT_AVAILABLE = "NOT_AVAILABLE"
