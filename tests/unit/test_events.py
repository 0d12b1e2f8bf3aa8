"""events.py: which cluster each EKS event names, and which events are refused and why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from eks_netpol_auditor.event_targets import (
    ClusterEvent,
    Skip,
    group,
    in_cooldown,
    is_own_call,
    principal_of,
)
from eks_netpol_auditor.events import EventRejected, parse_event
from eks_netpol_auditor.model import TOKEN_PREFIX
from tests.builders import ACCOUNT
from tests.eks_events import (
    ADDON_KINDS,
    CLOUDTRAIL_KINDS,
    addon_arn,
    addon_event,
    change_event,
    cloudtrail_event,
    cluster_arn,
    in_path,
)

ROLE = f"arn:aws:iam::{ACCOUNT}:role/service/eks-netpol-auditor-fn"
SESSION = f"arn:aws:sts::{ACCOUNT}:assumed-role/eks-netpol-auditor-fn/eks-netpol-auditor"


def parsed(event: dict[str, Any]) -> ClusterEvent:
    result = parse_event(event)
    assert isinstance(result, ClusterEvent), result
    return result


@pytest.mark.parametrize("kind", CLOUDTRAIL_KINDS + ADDON_KINDS)
def test_every_accepted_kind_names_its_region_and_cluster(kind: str) -> None:
    event = parsed(change_event(kind, "eu-west-1", "payments-prod"))
    assert (event.account, event.region, event.cluster) == (ACCOUNT, "eu-west-1", "payments-prod")
    assert event.name == kind


def test_cluster_name_may_come_as_name_or_cluster_name() -> None:
    by_name = parsed(
        cloudtrail_event("UpdateAddon", "us-east-1", {"name": "a", "addonName": "vpc-cni"})
    )
    assert by_name.cluster == "a"


@pytest.mark.parametrize(
    ("resource_arn", "reason"),
    [
        (addon_arn("us-east-1", "c1"), "tags changed on an EKS addon"),
        (
            f"arn:aws:eks:us-east-1:{ACCOUNT}:nodegroup/c1/ng-1/9ec5a2d6-0000",
            "tags changed on an EKS nodegroup",
        ),
    ],
)
def test_tags_on_anything_but_a_cluster_change_no_verdict(resource_arn: str, reason: str) -> None:
    event = cloudtrail_event("TagResource", "us-east-1", {"resourceArn": resource_arn, "tags": {}})
    result = parse_event(event)
    assert isinstance(result, Skip)
    assert reason in result.reason


@pytest.mark.parametrize("kind", ["CreateAddon", "UpdateAddon", "DeleteAddon"])
def test_calls_on_other_add_ons_are_skipped(kind: str) -> None:
    event = cloudtrail_event(kind, "us-east-1", {"clusterName": "c1", "addonName": "coredns"})
    result = parse_event(event)
    assert isinstance(result, Skip)
    assert "coredns" in result.reason


def test_add_on_events_for_other_add_ons_are_skipped() -> None:
    result = parse_event(
        addon_event("EKS Addon Health Degraded", "us-east-1", "c1", addon="coredns")
    )
    assert isinstance(result, Skip)


def test_a_failed_call_changed_nothing_and_is_skipped() -> None:
    event = change_event("UpdateAddon", "us-east-1", "c1", error_code="ResourceInUseException")
    result = parse_event(event)
    assert isinstance(result, Skip)
    assert "ResourceInUseException" in result.reason


def _without(event: dict[str, Any], *path: str) -> dict[str, Any]:
    node = event
    for key in path[:-1]:
        node = node[key]
    del node[path[-1]]
    return event


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (["not", "an", "object"], "must be a JSON object"),
        ({"source": "aws.eks"}, "malformed EventBridge event"),
        (
            _without(change_event("CreateCluster", "us-east-1", "c"), "region"),
            "region: Field required",
        ),
        ({**change_event("CreateCluster", "us-east-1", "c"), "region": "mars"}, "region"),
        (
            {**change_event("CreateCluster", "us-east-1", "c"), "source": "aws.ec2"},
            "unsupported event source",
        ),
        (
            {
                **change_event("CreateCluster", "us-east-1", "c"),
                "detail-type": "EKS Fargate Pod Scheduled Termination",
            },
            "unsupported EKS event detail-type",
        ),
        (
            cloudtrail_event("ListClusters", "us-east-1", {}),
            "unsupported EKS API call 'ListClusters'",
        ),
        (
            cloudtrail_event("UpdateClusterVersion", "us-east-1", {"name": "c"}),
            "unsupported EKS API call 'UpdateClusterVersion'",
        ),
        (cloudtrail_event("CreateCluster", "us-east-1", {}), "names no cluster"),
        (cloudtrail_event("CreateCluster", "us-east-1", None), "names no cluster"),
        (
            cloudtrail_event("CreateCluster", "us-east-1", {"name": "bad name!"}),
            "not an EKS cluster name",
        ),
        (
            cloudtrail_event("CreateCluster", "us-east-1", {"name": "x" * 101}),
            "not an EKS cluster name",
        ),
        (cloudtrail_event("CreateCluster", "us-east-1", {"name": 7}), "not an EKS cluster name"),
        (cloudtrail_event("UpdateAddon", "us-east-1", {"clusterName": "c"}), "addonName missing"),
        (cloudtrail_event("TagResource", "us-east-1", {"tags": {}}), "resourceArn missing"),
        (
            cloudtrail_event("TagResource", "us-east-1", {"resourceArn": "arn:aws:s3:::bucket"}),
            "not an EKS ARN",
        ),
        (
            cloudtrail_event(
                "TagResource",
                "us-east-1",
                {"resourceArn": f"arn:aws:eks:eu-west-1:{ACCOUNT}:cluster/c"},
            ),
            "not in the event's account",
        ),
        (
            cloudtrail_event(
                "TagResource",
                "us-east-1",
                {"resourceArn": "arn:aws:eks:us-east-1:999999999999:cluster/c"},
            ),
            "not in the event's account",
        ),
        (
            cloudtrail_event(
                "TagResource",
                "us-east-1",
                {"resourceArn": in_path(f"arn:aws:eks:eu-west-1:{ACCOUNT}:cluster/c")},
            ),
            "not in the event's account",
        ),
        (
            cloudtrail_event(
                "TagResource", "us-east-1", {"resourceArn": in_path("arn:aws:s3:::bucket")}
            ),
            "not an EKS ARN",
        ),
        (
            cloudtrail_event(
                "TagResource",
                "us-east-1",
                {"resourceArn": in_path(cluster_arn("us-east-1", "bad name!"))},
            ),
            "not an EKS cluster name",
        ),
    ],
)
def test_unknown_or_malformed_events_are_rejected_with_one_line(event: Any, reason: str) -> None:
    with pytest.raises(EventRejected, match=reason) as raised:
        parse_event(event)
    assert "\n" not in str(raised.value)


@pytest.mark.parametrize("kind", ["TagResource", "UntagResource"])
@pytest.mark.parametrize("encode", [in_path, str], ids=["as-cloudtrail-records-it", "plain"])
def test_a_cluster_tag_change_names_its_cluster_whether_the_arn_is_url_encoded_or_not(
    kind: str, encode: Any
) -> None:
    """Issue 17 item 2. CloudTrail records a path parameter URL-encoded (a real EKS capture:
    AssociateAccessPolicy `principalArn` "arn%3Aaws%3Aiam%3A%3A...%3Arole%2F...",
    DataDog/stratus-red-team docs/attack-techniques/EKS/
    eks.lateral-movement.create-access-entry.md); TagResource's resourceArn is a path
    parameter (botocore eks model, /tags/{resourceArn}). Rejected as poison before."""
    event = change_event(kind, "eu-west-1", "payments-prod")
    arn = cluster_arn("eu-west-1", "payments-prod")
    assert event["detail"]["requestParameters"]["resourceArn"] == in_path(arn)
    assert in_path(arn).startswith("arn%3Aaws%3Aeks%3Aeu-west-1%3A") and "%2F" in in_path(arn)
    event["detail"]["requestParameters"]["resourceArn"] = encode(arn)
    assert parsed(event).cluster == "payments-prod"
    addon = cloudtrail_event(
        kind, "eu-west-1", {"resourceArn": encode(addon_arn("eu-west-1", "c1")), "tagKeys": []}
    )
    skipped = parse_event(addon)
    assert isinstance(skipped, Skip) and "tags changed on an EKS addon" in skipped.reason


@pytest.mark.parametrize(
    ("resources", "why"),
    [
        ([], "names none"),
        (["arn:aws:iam::123456789012:role/x"], "names none"),
        (["arn:aws:eks:us-east-1:999999999999:cluster/c"], "names none"),
        ([f"arn:aws:eks:eu-west-1:{ACCOUNT}:cluster/c"], "names none"),
        ([addon_arn("us-east-1", "a"), addon_arn("us-east-1", "b")], "names 2 clusters"),
    ],
    ids=["empty", "not-eks", "other-account", "other-region", "two-clusters"],
)
def test_an_add_on_event_that_names_no_single_cluster_is_skipped_not_poison(
    resources: list[str], why: str
) -> None:
    """Issue 17 item 6: the EKS events reference documents these detail-types only, not
    their `resources` or `detail`; an event that cannot be placed is a Skip with the
    reason (CloudTrail's add-on calls and the schedule cover the change), not a DLQ entry.
    Rejected as EventRejected before."""
    event = {**addon_event("EKS Addon Update Succeeded", "us-east-1", "c"), "resources": resources}
    result = parse_event(event)
    assert isinstance(result, Skip), result
    assert why in result.reason and "cannot tell which cluster" in result.reason
    assert "\n" not in result.reason


def test_an_add_on_event_naming_the_cluster_and_its_add_on_is_placed() -> None:
    event = addon_event("EKS Addon Health Degraded", "us-east-1", "c1")
    event["resources"].append(cluster_arn("us-east-1", "c1"))
    assert parsed(event).cluster == "c1"


def test_update_cluster_config_counts_only_when_it_switches_auto_mode() -> None:
    """Issue 17 item 16: computeConfig.enabled turns EKS Auto Mode on or off (botocore eks
    model, UpdateClusterConfig: "Request to enable or disable the compute capability"),
    which changes the verdict; logging, endpoint access or subnets change none. Rejected
    as an unsupported call before."""
    switched = parsed(change_event("UpdateClusterConfig", "eu-west-1", "c1"))
    assert (switched.name, switched.region, switched.cluster) == (
        "UpdateClusterConfig",
        "eu-west-1",
        "c1",
    )
    off = cloudtrail_event(
        "UpdateClusterConfig", "eu-west-1", {"name": "c1", "computeConfig": {"enabled": False}}
    )
    assert parsed(off).cluster == "c1"
    for params in (
        {"name": "c1", "logging": {"clusterLogging": [{"types": ["api"], "enabled": True}]}},
        {"name": "c1", "computeConfig": {"nodePools": ["system"]}},
        {"name": "c1"},
        None,
    ):
        result = parse_event(cloudtrail_event("UpdateClusterConfig", "eu-west-1", params))
        assert isinstance(result, Skip), params
        assert "Auto Mode unchanged" in result.reason
    with pytest.raises(EventRejected, match="not an EKS cluster name"):
        parse_event(
            cloudtrail_event(
                "UpdateClusterConfig",
                "eu-west-1",
                {"name": "bad name!", "computeConfig": {"enabled": True}},
            )
        )


def test_the_cloudtrail_region_must_agree_with_the_envelope() -> None:
    event = change_event("UpdateAddon", "us-east-1", "c")
    event["detail"]["awsRegion"] = "eu-west-1"
    with pytest.raises(EventRejected, match=r"differs from detail\.awsRegion"):
        parse_event(event)


def test_a_role_session_and_its_issuer_are_the_same_principal_whatever_the_role_path() -> None:
    assert principal_of(SESSION) == principal_of(ROLE) == f"role:{ACCOUNT}:eks-netpol-auditor-fn"
    other = f"arn:aws:iam::{ACCOUNT}:role/eks-netpol-auditor-fn-other"
    assert principal_of(other) != principal_of(SESSION)
    assert (
        principal_of(f"arn:aws:iam::{ACCOUNT}:user/alice") == f"arn:aws:iam::{ACCOUNT}:user/alice"
    )


def test_the_auditors_own_update_is_recognised_by_role_or_by_token() -> None:
    own = principal_of(SESSION)
    by_role = parsed(change_event("UpdateAddon", "us-east-1", "c", caller=SESSION, issuer=ROLE))
    assert is_own_call(by_role, own, TOKEN_PREFIX)
    by_token = parsed(
        cloudtrail_event(
            "UpdateAddon",
            "us-east-1",
            {"clusterName": "c", "addonName": "vpc-cni", "clientRequestToken": TOKEN_PREFIX + "ab"},
        )
    )
    assert is_own_call(by_token, None, TOKEN_PREFIX)
    person = parsed(change_event("UpdateAddon", "us-east-1", "c"))
    assert not is_own_call(person, own, TOKEN_PREFIX)
    service_event = parsed(addon_event("EKS Addon Update Succeeded", "us-east-1", "c"))
    assert service_event.principal is None
    assert not is_own_call(service_event, own, TOKEN_PREFIX)


def test_grouping_audits_each_cluster_once_and_keeps_every_event() -> None:
    events = [
        parsed(change_event(kind, region, name))
        for kind in ("UpdateAddon", "TagResource", "EKS Addon Update Succeeded")
        for region, name in (("us-east-1", "a"), ("eu-west-1", "a"), ("us-east-1", "b"))
    ]
    targets = group(events)
    assert [t.key for t in targets] == [("us-east-1", "a"), ("eu-west-1", "a"), ("us-east-1", "b")]
    assert all(len(t.events) == 3 for t in targets)


@given(st.lists(st.tuples(st.sampled_from(["us-east-1", "eu-west-1"]), st.sampled_from("abcde"))))
def test_grouping_never_loses_or_duplicates_an_event(pairs: list[tuple[str, str]]) -> None:
    events = [
        ClusterEvent(event_id=str(i), name="UpdateAddon", account=ACCOUNT, region=r, cluster=c)
        for i, (r, c) in enumerate(pairs)
    ]
    targets = group(events)
    assert len(targets) == len(set(pairs))
    assert sorted(e.event_id for t in targets for e in t.events) == sorted(
        e.event_id for e in events
    )


def test_cooldown_counts_from_the_add_ons_last_modification() -> None:
    now = datetime(2026, 11, 27, 8, 0, tzinfo=UTC)
    assert in_cooldown(now - timedelta(minutes=29), now, 30)
    assert not in_cooldown(now - timedelta(minutes=30), now, 30)
    assert not in_cooldown(None, now, 30)
    assert not in_cooldown(now, now, 0)


@pytest.mark.parametrize("kind", ["CreateCluster", "UpdateAddon", "EKS Addon Update Succeeded"])
def test_a_cluster_name_of_100_characters_is_accepted_and_101_is_not(kind: str) -> None:
    """Issue 16, point 8. EKS API reference, CreateCluster `name` (botocore's eks model,
    shape ClusterName): 1 to 100 characters, ^[0-9A-Za-z][A-Za-z0-9\\-_]*."""
    longest = "c" + "-" * 98 + "9"
    assert len(longest) == 100
    assert parsed(change_event(kind, "eu-west-1", longest)).cluster == longest
    too_long = change_event(kind, "eu-west-1", longest + "x")
    if kind in ADDON_KINDS:  # its resources name no valid cluster: skipped, nothing audited
        assert isinstance(parse_event(too_long), Skip)
    else:  # a CloudTrail call naming an invalid cluster is refused
        with pytest.raises(EventRejected, match="not an EKS cluster name"):
            parse_event(too_long)
