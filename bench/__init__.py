"""Benchmark of the auditor against the local AWS sandbox (`make bench`, not part of tests).

`python -m bench.run` measures (`measure`) our `run_audit` next to a sequential CIS-style
baseline and bare boto3 calls under two latency models, keeps the raw figures in
bench/out/run.json, derives floors, ratios and gates (`floors`) and writes `bench/RESULTS.md`
(`render`).
"""
