"""Smoke test of the organization bench case (`bench/org.py`): a tiny organization, no
timing asserted. It proves the case runs end to end and that its counts add up: every
member's findings reach the administrator's report, one GetFindings page per 100."""

from __future__ import annotations

from bench.environment import sandbox_environment
from bench.org import ORG_REGIONS, ceiling_findings, measure_org, render


def test_org_case_on_a_small_organization() -> None:
    m = measure_org(sandbox_environment, accounts=3, clusters_per_region=2, batch=3)
    clusters = 3 * len(ORG_REGIONS) * 2
    assert m.findings_published == clusters
    assert m.report_rows == clusters  # every member's findings, nothing lost or doubled
    assert m.report_accounts == 4  # the administrator and its three members
    assert (m.get_findings_calls, m.list_members_calls) == (1, 1)
    assert m.throttled == 0
    assert m.report_exit == 1  # the mix has FAILED clusters
    text = "\n".join(render(m))
    assert "GetFindingsV2" in text
    assert f"{ceiling_findings(15 * 60):,} findings" in text


def test_the_ceiling_is_three_pages_of_one_hundred_per_second() -> None:
    assert ceiling_findings(1.0) == 300
