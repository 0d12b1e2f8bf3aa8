"""The Kubernetes API of every sandbox cluster, over HTTPS on loopback (issue 18).

* ``authn``: the EKS bearer token, verified as the cluster's authenticator does;
* ``backend``: the objects inside each cluster, paging, and access decisions from the
  cluster's EKS access entries (``sandbox/eks/access.py`` holds the entries);
* ``objects``: the objects' shapes (validated against the published schemas in a test);
* ``responses``: one request in, one answer out (paths, Accept, Status bodies, faults);
* ``server``: the per-cluster TLS listeners, lazily started, one accept thread.

DescribeCluster's ``endpoint`` and ``certificateAuthority.data`` point here.
"""
