"""The in-cluster check (opt-in, read-only): CIS Amazon EKS Benchmark 4.3.2 from each
cluster's own Kubernetes API. `model` holds its data; the rules are pure, the reader is
the only module here that talks to a cluster."""
