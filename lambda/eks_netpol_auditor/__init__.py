"""eks-netpol-auditor: prove that every Amazon EKS cluster enforces Kubernetes NetworkPolicy."""

# The one home of the version: pyproject.toml reads it (dynamic), `--version` shows it and
# CHANGELOG.md has a section for it.
__version__ = "0.1.0"
