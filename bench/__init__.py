"""Benchmark of the auditor against the local AWS sandbox (`make bench`, not part of tests).

`python -m bench.run` measures our `run_audit` next to a sequential CIS-style baseline
under two latency models and writes `bench/RESULTS.md`.
"""
