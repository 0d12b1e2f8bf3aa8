"""The scan's human output: progress wording, plurals, the interrupted line."""

from __future__ import annotations

import pytest

from eks_netpol_auditor.model import AuditResult
from eks_netpol_auditor.scan_output import interrupted_text, plural, progress_text


@pytest.mark.parametrize(
    ("count", "text"), [(0, "0 regions"), (1, "1 region"), (2, "2 regions"), (17, "17 regions")]
)
def test_plural(count: int, text: str) -> None:
    assert plural(count, "region") == text


def test_progress_says_it_is_listing_while_regions_are_outstanding() -> None:
    assert progress_text(0, 0, 3, 17) == "listing regions 3/17… (0 clusters found)"
    assert progress_text(5, 41, 16, 17) == "listing regions 16/17… (41 clusters found)"


def test_progress_counts_clusters_once_every_region_is_listed() -> None:
    assert progress_text(5, 41, 17, 17) == "audited 5/41 clusters"
    assert progress_text(1, 1, 1, 1) == "audited 1/1 cluster"


def test_an_interrupt_before_any_write_says_nothing_was_written() -> None:
    empty = AuditResult(account="1", partition="aws", regions=["us-east-1"])
    assert interrupted_text(empty) == (
        "interrupted after evaluating 0 clusters; no add-on was changed; nothing was published"
    )
