"""The AWS services the sandbox serves, one package each, laid out as moto lays out its own
(``moto/<service>/{models,responses,urls}.py`` plus ``moto/backends.py``):

* ``<service>/backend.py``: the state and its rules, raising ``sandbox.errors.AwsError``;
  what the control API (``sandbox/control``) reads and seeds;
* ``<service>/responses.py``: the wire format, a ``wire.ServiceEmulator`` over the backend.
  Operations and their input come from the botocore model (``sandbox/routing.py``), so no
  service keeps a URL table (moto's ``urls.py``);
* ``registry.py``: every service's backend, and which handler answers which SigV4 service
  name. A new service is one more package and one more line there.

This module imports nothing, so importing one service does not load the others.
"""
