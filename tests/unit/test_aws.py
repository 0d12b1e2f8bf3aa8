"""AwsClients: shared clients, and paginator models read once per client set."""

from __future__ import annotations

import threading
import time
from typing import Any

import boto3
import pytest
from botocore.loaders import JSONFileLoader

from eks_netpol_auditor.aws import AwsClients

REGIONS = [f"region-{n}" for n in range(16)]


def test_regions_asking_for_their_first_paginator_at_once_read_its_model_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """botocore's model Loader caches without a lock: 16 regions starting together would
    each scan the data directories and parse paginators-1 (about 0.5 s of CPU a run)."""
    reads: list[str] = []
    load_file = JSONFileLoader.load_file

    def slow_counted_load(self: JSONFileLoader, file_path: str) -> Any:
        if file_path.endswith("paginators-1"):
            reads.append(file_path)
            time.sleep(0.05)  # widen the window in which the other regions would miss
        return load_file(self, file_path)

    monkeypatch.setattr(JSONFileLoader, "load_file", slow_counted_load)
    session = boto3.session.Session(
        aws_access_key_id="AKIDEXAMPLE", aws_secret_access_key="not-a-secret"
    )
    clients = AwsClients(session)
    for region in REGIONS:  # clients exist already: only the paginator model is at stake
        clients.eks(region)
    start = threading.Barrier(len(REGIONS))
    paginators: list[Any] = []

    def first_paginator(region: str) -> None:
        start.wait()
        paginators.append(clients.paginator("eks", region, "list_clusters"))

    threads = [threading.Thread(target=first_paginator, args=(r,)) for r in REGIONS]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert len(reads) == 1
    assert len(paginators) == len(REGIONS)
    assert {p._model.name for p in paginators} == {"ListClusters"}
    regions = {p._method.__self__.meta.region_name for p in paginators}
    assert regions == set(REGIONS)
