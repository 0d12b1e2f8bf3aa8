"""eks-netpol-auditor: prove that every Amazon EKS cluster enforces Kubernetes NetworkPolicy."""

__version__ = "0.1.0"
