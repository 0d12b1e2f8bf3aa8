"""Fidelity of the sandbox's EKS emulator, exercised through real boto3 clients."""

from __future__ import annotations

import json

import pytest
import yaml
from botocore.exceptions import ClientError

from sandbox.client import AddonSeed, SandboxClient
from tests.conftest import AwsClientFactory


def _error(exc: pytest.ExceptionInfo[ClientError]) -> tuple[str, int, str]:
    response = exc.value.response
    return (
        response["Error"]["Code"],
        response["ResponseMetadata"]["HTTPStatusCode"],
        response["Error"]["Message"],
    )


def test_list_clusters_paginates_with_max_results(
    sandbox: SandboxClient, aws_client: AwsClientFactory
) -> None:
    for i in range(7):
        sandbox.add_cluster("us-east-1", f"c{i}")
    eks = aws_client("eks")
    first = eks.list_clusters(maxResults=3)
    assert first["clusters"] == ["c0", "c1", "c2"]
    second = eks.list_clusters(maxResults=3, nextToken=first["nextToken"])
    assert second["clusters"] == ["c3", "c4", "c5"]
    third = eks.list_clusters(maxResults=3, nextToken=second["nextToken"])
    assert third["clusters"] == ["c6"]
    assert "nextToken" not in third
    pages = eks.get_paginator("list_clusters").paginate(PaginationConfig={"PageSize": 2})
    assert [n for page in pages for n in page["clusters"]] == [f"c{i}" for i in range(7)]


@pytest.mark.parametrize("kwargs", [{"maxResults": 101}, {"nextToken": "not-a-token"}])
def test_list_clusters_rejects_bad_paging(
    sandbox: SandboxClient, aws_client: AwsClientFactory, kwargs: dict[str, object]
) -> None:
    with pytest.raises(ClientError) as exc:
        aws_client("eks").list_clusters(**kwargs)
    assert _error(exc)[:2] == ("InvalidParameterException", 400)


def test_connector_clusters_listed_only_with_include_all(
    sandbox: SandboxClient, aws_client: AwsClientFactory
) -> None:
    sandbox.add_cluster("us-east-1", "real")
    sandbox.add_cluster("us-east-1", "onprem", connector=True, addon=None)
    eks = aws_client("eks")
    assert eks.list_clusters()["clusters"] == ["real"]
    assert eks.list_clusters(include=["all"])["clusters"] == ["onprem", "real"]


def test_region_from_sigv4_scope_isolates_data(
    sandbox: SandboxClient, aws_client: AwsClientFactory
) -> None:
    sandbox.add_cluster("eu-west-1", "dublin")
    assert aws_client("eks", "eu-west-1").list_clusters()["clusters"] == ["dublin"]
    us = aws_client("eks", "us-east-1")
    assert us.list_clusters()["clusters"] == []
    with pytest.raises(ClientError) as exc:
        us.describe_cluster(name="dublin")
    assert _error(exc) == ("ResourceNotFoundException", 404, "No cluster found for name: dublin.")


def test_describe_cluster_shape(sandbox: SandboxClient, aws_client: AwsClientFactory) -> None:
    sandbox.add_cluster("us-east-1", "auto", auto_mode=True, addon=None, tags={"a": "b"})
    sandbox.add_cluster("us-east-1", "old", version="1.24", omit_compute_config=True)
    sandbox.add_cluster("us-east-1", "new", status="CREATING")
    eks = aws_client("eks")
    auto = eks.describe_cluster(name="auto")["cluster"]
    assert auto["arn"] == "arn:aws:eks:us-east-1:123456789012:cluster/auto"
    assert auto["computeConfig"]["enabled"] is True
    assert auto["tags"] == {"a": "b"}
    assert auto["endpoint"].startswith("https://")
    assert auto["certificateAuthority"]["data"]
    old = eks.describe_cluster(name="old")["cluster"]
    assert old["version"] == "1.24"
    assert "computeConfig" not in old
    new = eks.describe_cluster(name="new")["cluster"]
    assert new["status"] == "CREATING"
    assert "endpoint" not in new


def test_describe_addon_returns_configuration_verbatim(
    sandbox: SandboxClient, aws_client: AwsClientFactory
) -> None:
    text = 'enableNetworkPolicy: "true"\n# a comment survives\n'
    sandbox.add_cluster("us-east-1", "yaml", addon=AddonSeed(configuration_values=text))
    sandbox.add_cluster("us-east-1", "plain")
    eks = aws_client("eks")
    addon = eks.describe_addon(clusterName="yaml", addonName="vpc-cni")["addon"]
    assert addon["configurationValues"] == text
    assert addon["addonArn"].startswith("arn:aws:eks:us-east-1:123456789012:addon/yaml/vpc-cni/")
    assert addon["health"] == {"issues": []}
    assert (
        "configurationValues"
        not in eks.describe_addon(clusterName="plain", addonName="vpc-cni")["addon"]
    )
    assert eks.list_addons(clusterName="plain")["addons"] == ["vpc-cni"]


def test_missing_cluster_and_addon_errors(
    sandbox: SandboxClient, aws_client: AwsClientFactory
) -> None:
    sandbox.add_cluster("us-east-1", "cilium", addon=None)
    eks = aws_client("eks")
    with pytest.raises(eks.exceptions.ResourceNotFoundException) as exc:
        eks.describe_addon(clusterName="cilium", addonName="vpc-cni")
    assert exc.value.response["Error"]["Message"] == "No addon: vpc-cni found in cluster: cilium"
    assert eks.list_addons(clusterName="cilium")["addons"] == []
    with pytest.raises(eks.exceptions.ResourceNotFoundException):
        eks.list_addons(clusterName="ghost")


def test_list_addons_follows_the_model_shape_and_paging(
    sandbox: SandboxClient, aws_client: AwsClientFactory
) -> None:
    # botocore eks model: ListAddons GET /clusters/{name}/addons, maxResults 1..100,
    # nextToken; output {addons: [str], nextToken}.
    sandbox.add_cluster("us-east-1", "with")
    eks = aws_client("eks")
    page = eks.list_addons(clusterName="with", maxResults=1)
    assert page["addons"] == ["vpc-cni"]
    assert "nextToken" not in page
    pages = eks.get_paginator("list_addons").paginate(
        clusterName="with", PaginationConfig={"PageSize": 1}
    )
    assert [a for p in pages for a in p["addons"]] == ["vpc-cni"]
    for kwargs in ({"maxResults": 101}, {"nextToken": "not-a-token"}):
        with pytest.raises(ClientError) as exc:
            eks.list_addons(clusterName="with", **kwargs)
        assert _error(exc)[:2] == ("InvalidParameterException", 400)
    with pytest.raises(ClientError) as exc:
        aws_client("eks", "eu-west-1").list_addons(clusterName="with")
    assert _error(exc) == ("ResourceNotFoundException", 404, "No cluster found for name: with.")


def test_addon_configuration_schema_by_version(
    sandbox: SandboxClient, aws_client: AwsClientFactory
) -> None:
    eks = aws_client("eks")
    new = json.loads(
        eks.describe_addon_configuration(addonName="vpc-cni", addonVersion="v1.19.0-eksbuild.1")[
            "configurationSchema"
        ]
    )
    root = new["definitions"][new["$ref"].rsplit("/", 1)[1]]
    assert root["additionalProperties"] is False
    assert root["properties"]["enableNetworkPolicy"] == {"type": "string", "format": "boolean"}
    assert {"env", "init", "nodeAgent", "resources", "tolerations", "affinity"} <= set(
        root["properties"]
    )
    node_agent = new["definitions"]["NodeAgent"]["properties"]
    assert {
        "enableCloudWatchLogs",
        "enablePolicyEventLogs",
        "healthProbeBindAddr",
        "metricsBindAddr",
    } <= set(node_agent)
    old = json.loads(
        eks.describe_addon_configuration(addonName="vpc-cni", addonVersion="v1.12.6-eksbuild.2")[
            "configurationSchema"
        ]
    )
    assert "enableNetworkPolicy" not in old["definitions"]["VpcCni"]["properties"]
    with pytest.raises(eks.exceptions.ResourceNotFoundException):
        eks.describe_addon_configuration(addonName="vpc-cni", addonVersion="v9.9.9-eksbuild.1")


@pytest.mark.parametrize(
    ("config", "fragment"),
    [
        ('{"enableNetworkPolicy": "true", "bogus": 1}', "$.bogus: is not defined in the schema"),
        ('{"nodeAgent": {"typo": "1"}}', "$.nodeAgent.typo: is not defined in the schema"),
        ("enableNetworkPolicy: true\n", "$.enableNetworkPolicy: boolean found, string expected"),
        ("[1, 2]", "list found, object expected"),
    ],
)
def test_update_addon_rejects_configuration_outside_schema(
    sandbox: SandboxClient, aws_client: AwsClientFactory, config: str, fragment: str
) -> None:
    sandbox.add_cluster("us-east-1", "c1")
    with pytest.raises(ClientError) as exc:
        aws_client("eks").update_addon(
            clusterName="c1", addonName="vpc-cni", configurationValues=config
        )
    code, status, message = _error(exc)
    assert (code, status) == ("InvalidParameterException", 400)
    assert message.startswith("ConfigurationValue provided in request is not supported")
    assert fragment in message
    assert sandbox.updates() == []


def test_update_addon_rejects_network_policy_on_old_version(
    sandbox: SandboxClient, aws_client: AwsClientFactory
) -> None:
    sandbox.add_cluster("us-east-1", "old", addon=AddonSeed(version="v1.12.6-eksbuild.2"))
    with pytest.raises(ClientError) as exc:
        aws_client("eks").update_addon(
            clusterName="old",
            addonName="vpc-cni",
            configurationValues='{"enableNetworkPolicy": "true"}',
        )
    assert "$.enableNetworkPolicy: is not defined in the schema" in _error(exc)[2]


def test_update_lifecycle_resource_in_use_and_settle(
    sandbox: SandboxClient, aws_client: AwsClientFactory
) -> None:
    original = '{"env": {"WARM_IP_TARGET": "5"}}'
    sandbox.add_cluster("us-east-1", "c1", addon=AddonSeed(configuration_values=original))
    eks = aws_client("eks")
    new = '{"env": {"WARM_IP_TARGET": "5"}, "enableNetworkPolicy": "true"}'
    update = eks.update_addon(
        clusterName="c1", addonName="vpc-cni", configurationValues=new, resolveConflicts="PRESERVE"
    )["update"]
    assert update["status"] == "InProgress"
    assert update["type"] == "AddonUpdate"
    assert {"type": "ConfigurationValues", "value": new} in update["params"]
    assert {"type": "ResolveConflicts", "value": "PRESERVE"} in update["params"]
    addon = eks.describe_addon(clusterName="c1", addonName="vpc-cni")["addon"]
    assert addon["status"] == "UPDATING"
    assert addon["configurationValues"] == original  # not applied until the update settles

    with pytest.raises(ClientError) as exc:
        eks.update_addon(clusterName="c1", addonName="vpc-cni", configurationValues=new)
    assert _error(exc) == (
        "ResourceInUseException",
        409,
        "Addon vpc-cni cannot be updated as it is currently in UPDATING state",
    )

    assert sandbox.settle() == [update["id"]]
    addon = eks.describe_addon(clusterName="c1", addonName="vpc-cni")["addon"]
    assert (addon["status"], addon["configurationValues"]) == ("ACTIVE", new)
    described = eks.describe_update(name="c1", updateId=update["id"], addonName="vpc-cni")
    assert described["update"]["status"] == "Successful"
    with pytest.raises(eks.exceptions.ResourceNotFoundException):
        eks.describe_update(name="c1", updateId=update["id"])  # addonName is required


def test_update_addon_client_request_token_is_idempotent(
    sandbox: SandboxClient, aws_client: AwsClientFactory
) -> None:
    sandbox.add_cluster("us-east-1", "c1")
    eks = aws_client("eks")
    args = {
        "clusterName": "c1",
        "addonName": "vpc-cni",
        "configurationValues": '{"enableNetworkPolicy": "true"}',
        "clientRequestToken": "token-1-" + "0" * 32,
    }
    first = eks.update_addon(**args)["update"]
    again = eks.update_addon(**args)["update"]  # while UPDATING: same update, no 409
    assert again["id"] == first["id"]
    assert len(sandbox.updates()) == 1
    with pytest.raises(ClientError) as exc:
        eks.update_addon(**{**args, "configurationValues": "{}"})
    assert _error(exc)[:2] == ("InvalidRequestException", 400)


@pytest.mark.parametrize("length", [32, 127])
def test_a_client_request_token_outside_33_to_126_characters_is_refused(
    sandbox: SandboxClient, aws_client: AwsClientFactory, length: int
) -> None:
    """Issue 17 item 5: EKS's limit ("The client request token parameter must be between
    33 and 126 characters": ansible-collections/community.aws#817, #844), which the botocore
    model does not state. The sandbox accepted any length before."""
    sandbox.add_cluster("us-east-1", "c1")
    eks = aws_client("eks")
    with pytest.raises(ClientError) as exc:
        eks.update_addon(clusterName="c1", addonName="vpc-cni", clientRequestToken="t" * length)
    assert _error(exc)[:2] == ("InvalidParameterException", 400)
    assert "between 33 and 126 characters" in str(exc.value)
    assert sandbox.updates() == []
    for edge in (33, 126):
        token = "t" * edge
        eks.update_addon(clusterName="c1", addonName="vpc-cni", clientRequestToken=token)
        sandbox.settle()
    assert len(sandbox.updates()) == 2


def test_failed_update_and_other_update_guards(
    sandbox: SandboxClient, aws_client: AwsClientFactory
) -> None:
    sandbox.add_cluster("us-east-1", "c1")
    sandbox.add_cluster("us-east-1", "creating", status="CREATING")
    eks = aws_client("eks")
    with pytest.raises(ClientError) as exc:
        eks.update_addon(clusterName="c1", addonName="vpc-cni", resolveConflicts="MAYBE")
    assert _error(exc)[:2] == ("InvalidParameterException", 400)
    with pytest.raises(ClientError) as exc:
        eks.update_addon(clusterName="c1", addonName="vpc-cni", addonVersion="v1.12.6-eksbuild.2")
    assert _error(exc)[:2] == ("InvalidParameterException", 400)  # downgrade
    with pytest.raises(ClientError) as exc:
        eks.update_addon(clusterName="creating", addonName="vpc-cni")
    assert _error(exc)[:2] == ("InvalidRequestException", 400)

    update = eks.update_addon(
        clusterName="c1", addonName="vpc-cni", configurationValues='{"enableNetworkPolicy": "true"}'
    )["update"]
    sandbox.settle(outcome="Failed")
    addon = eks.describe_addon(clusterName="c1", addonName="vpc-cni")["addon"]
    assert addon["status"] == "UPDATE_FAILED"
    assert "configurationValues" not in addon
    failed = eks.describe_update(name="c1", updateId=update["id"], addonName="vpc-cni")["update"]
    assert failed["status"] == "Failed"
    assert failed["errors"][0]["errorCode"] == "ConfigurationConflict"


def test_auto_settle(sandbox: SandboxClient, aws_client: AwsClientFactory) -> None:
    sandbox.add_cluster("us-east-1", "c1")
    sandbox.set_auto_settle(0)
    eks = aws_client("eks")
    eks.update_addon(
        clusterName="c1",
        addonName="vpc-cni",
        configurationValues=yaml.safe_dump({"enableNetworkPolicy": "true"}),
    )
    addon = eks.describe_addon(clusterName="c1", addonName="vpc-cni")["addon"]
    assert addon["status"] == "ACTIVE"
    assert yaml.safe_load(addon["configurationValues"]) == {"enableNetworkPolicy": "true"}


def test_control_api_state_changes(sandbox: SandboxClient, aws_client: AwsClientFactory) -> None:
    sandbox.add_cluster("us-east-1", "c1")
    sandbox.update_cluster("us-east-1", "c1", status="UPDATING", version="1.32")
    sandbox.set_addon("us-east-1", "c1", AddonSeed(status="DEGRADED"))
    eks = aws_client("eks")
    cluster = eks.describe_cluster(name="c1")["cluster"]
    assert (cluster["status"], cluster["version"]) == ("UPDATING", "1.32")
    assert eks.describe_addon(clusterName="c1", addonName="vpc-cni")["addon"]["status"] == (
        "DEGRADED"
    )
    sandbox.set_addon("us-east-1", "c1", None)
    assert sandbox.addon("us-east-1", "c1") is None
    sandbox.delete_cluster("us-east-1", "c1")
    assert eks.list_clusters()["clusters"] == []


def test_create_and_delete_cluster_lifecycle(
    sandbox: SandboxClient, aws_client: AwsClientFactory
) -> None:
    eks = aws_client("eks")
    created = eks.create_cluster(
        name="fresh",
        roleArn="arn:aws:iam::123456789012:role/eks",
        resourcesVpcConfig={"subnetIds": ["subnet-1", "subnet-2"]},
        tags={"team": "a"},
    )["cluster"]
    assert (created["status"], created["tags"]) == ("CREATING", {"team": "a"})
    assert created["roleArn"] == "arn:aws:iam::123456789012:role/eks"
    assert "endpoint" not in created
    with pytest.raises(ClientError) as exc:
        eks.create_cluster(
            name="fresh", roleArn="arn:aws:iam::123456789012:role/eks", resourcesVpcConfig={}
        )
    assert _error(exc)[:2] == ("ResourceInUseException", 409)
    sandbox.settle()
    assert eks.describe_cluster(name="fresh")["cluster"]["status"] == "ACTIVE"
    assert eks.delete_cluster(name="fresh")["cluster"]["status"] == "DELETING"
    assert eks.describe_cluster(name="fresh")["cluster"]["status"] == "DELETING"
    sandbox.settle()
    with pytest.raises(eks.exceptions.ResourceNotFoundException):
        eks.describe_cluster(name="fresh")
    with pytest.raises(eks.exceptions.ResourceNotFoundException):
        eks.delete_cluster(name="fresh")


def test_create_and_delete_addon_lifecycle(
    sandbox: SandboxClient, aws_client: AwsClientFactory
) -> None:
    sandbox.add_cluster("us-east-1", "c", addon=None)
    eks = aws_client("eks")
    addon = eks.create_addon(
        clusterName="c",
        addonName="vpc-cni",
        addonVersion="v1.19.0-eksbuild.1",
        configurationValues='{"enableNetworkPolicy": "true"}',
        resolveConflicts="OVERWRITE",
    )["addon"]
    assert (addon["status"], addon["addonVersion"]) == ("CREATING", "v1.19.0-eksbuild.1")
    with pytest.raises(ClientError) as exc:
        eks.create_addon(clusterName="c", addonName="vpc-cni")
    assert _error(exc) == ("ResourceInUseException", 409, "Addon already exists.")
    eks.create_addon(clusterName="c", addonName="kube-proxy")
    # ListAddons pages over several add-ons (maxResults 1).
    first = eks.list_addons(clusterName="c", maxResults=1)
    second = eks.list_addons(clusterName="c", maxResults=1, nextToken=first["nextToken"])
    assert first["addons"] + second["addons"] == ["kube-proxy", "vpc-cni"]
    assert "nextToken" not in second
    for bad in (
        {"addonName": "not-an-addon"},
        {"addonName": "coredns", "configurationValues": "{}"},  # no schema in the sandbox
    ):
        with pytest.raises(ClientError) as exc:
            eks.create_addon(clusterName="c", **bad)
        assert _error(exc)[:2] == ("InvalidParameterException", 400)
    sandbox.settle()
    assert eks.describe_addon(clusterName="c", addonName="vpc-cni")["addon"]["status"] == "ACTIVE"
    assert eks.delete_addon(clusterName="c", addonName="vpc-cni")["addon"]["status"] == "DELETING"
    sandbox.settle()
    with pytest.raises(eks.exceptions.ResourceNotFoundException):
        eks.describe_addon(clusterName="c", addonName="vpc-cni")


def test_tag_and_untag_cluster_and_addon(
    sandbox: SandboxClient, aws_client: AwsClientFactory
) -> None:
    arn = sandbox.add_cluster("us-east-1", "c", tags={"keep": "1"})["arn"]
    eks = aws_client("eks")
    eks.tag_resource(resourceArn=arn, tags={"eks-netpol-auditor:exempt": "calico"})
    assert eks.describe_cluster(name="c")["cluster"]["tags"] == {
        "keep": "1",
        "eks-netpol-auditor:exempt": "calico",
    }
    eks.untag_resource(resourceArn=arn, tagKeys=["eks-netpol-auditor:exempt"])
    assert eks.list_tags_for_resource(resourceArn=arn)["tags"] == {"keep": "1"}
    addon_arn = eks.describe_addon(clusterName="c", addonName="vpc-cni")["addon"]["addonArn"]
    eks.tag_resource(resourceArn=addon_arn, tags={"a": "b"})
    assert eks.list_tags_for_resource(resourceArn=addon_arn)["tags"] == {"a": "b"}
    cases = [
        ("arn:aws:eks:us-east-1:123456789012:cluster/ghost", {"a": "b"}, "NotFoundException"),
        ("arn:aws:eks:eu-west-1:123456789012:cluster/c", {"a": "b"}, "NotFoundException"),
        ("not-an-arn", {"a": "b"}, "BadRequestException"),
        (arn, {"aws:reserved": "x"}, "BadRequestException"),
        (arn, {f"k{i}": "v" for i in range(50)}, "BadRequestException"),  # 51 tags in all
    ]
    for resource, tags, code in cases:
        with pytest.raises(ClientError) as exc:
            eks.tag_resource(resourceArn=resource, tags=tags)
        assert _error(exc)[0] == code


AUTO_MODE_ON = {
    "computeConfig": {"enabled": True, "nodePools": ["general-purpose", "system"]},
    "storageConfig": {"blockStorage": {"enabled": True}},
    "kubernetesNetworkConfig": {"elasticLoadBalancing": {"enabled": True}},
}


def test_update_cluster_config_switches_auto_mode_once_settled(
    sandbox: SandboxClient, aws_client: AwsClientFactory
) -> None:
    """Issue 17 item 16: the sandbox emulates UpdateClusterConfig for EKS Auto Mode, so
    the CloudTrail journal carries the event the auditor now reacts to. Shapes from the
    botocore eks model (Update type AutoModeUpdate; the cluster is UPDATING until the
    update is complete, then ACTIVE)."""
    sandbox.add_cluster("us-east-1", "c1")
    eks = aws_client("eks")
    update = eks.update_cluster_config(name="c1", **AUTO_MODE_ON)["update"]
    assert (update["type"], update["status"]) == ("AutoModeUpdate", "InProgress")
    assert {p["type"] for p in update["params"]} == {
        "ComputeConfig",
        "StorageConfig",
        "KubernetesNetworkConfig",
    }
    cluster = eks.describe_cluster(name="c1")["cluster"]
    assert (cluster["status"], cluster["computeConfig"]["enabled"]) == ("UPDATING", False)
    with pytest.raises(ClientError) as exc:
        eks.update_cluster_config(name="c1", **AUTO_MODE_ON)
    assert _error(exc)[:2] == ("ResourceInUseException", 409)
    assert sandbox.settle() == [update["id"]]
    cluster = eks.describe_cluster(name="c1")["cluster"]
    assert (cluster["status"], cluster["computeConfig"]["enabled"]) == ("ACTIVE", True)
    assert cluster["storageConfig"]["blockStorage"]["enabled"] is True
    described = eks.describe_update(name="c1", updateId=update["id"])["update"]
    assert (described["type"], described["status"]) == ("AutoModeUpdate", "Successful")
    with pytest.raises(eks.exceptions.ResourceNotFoundException):
        eks.describe_update(name="c1", updateId=update["id"], addonName="vpc-cni")
    first, refused = sandbox.events(event_name="UpdateClusterConfig")
    assert refused["detail"]["errorCode"] == "ResourceInUseException"
    params = first["detail"]["requestParameters"]
    assert "errorCode" not in first["detail"]
    assert params["name"] == "c1" and params["computeConfig"]["enabled"] is True


def test_update_cluster_config_refuses_what_the_sandbox_cannot_model(
    sandbox: SandboxClient, aws_client: AwsClientFactory
) -> None:
    sandbox.add_cluster("us-east-1", "c1")
    eks = aws_client("eks")
    with pytest.raises(ClientError) as exc:
        eks.update_cluster_config(name="c1", computeConfig={"enabled": True})
    assert _error(exc)[:2] == ("InvalidParameterException", 400)
    with pytest.raises(ClientError) as exc:
        eks.update_cluster_config(
            name="c1", logging={"clusterLogging": [{"types": ["api"], "enabled": True}]}
        )
    assert _error(exc)[:2] == ("InvalidRequestException", 400)
    with pytest.raises(eks.exceptions.ResourceNotFoundException):
        eks.update_cluster_config(name="nope", **AUTO_MODE_ON)
    assert [u for u in sandbox.updates() if u["type"] == "AutoModeUpdate"] == []
