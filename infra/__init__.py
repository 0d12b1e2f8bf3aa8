"""CDK infrastructure of eks-netpol-auditor: the scheduled Lambda stack and its bundling.

Kept apart from ``lambda/`` so the function's package never imports CDK, and the
stack can be synthesized and tested without AWS credentials or Docker.
"""
