"""Helpers for reading a synthesized CloudFormation template in the CDK tests."""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]


def resources_of(template_json: Json, cfn_type: str) -> dict[str, Json]:
    return {k: v for k, v in template_json["Resources"].items() if v["Type"] == cfn_type}


def only(mapping: dict[str, Json]) -> tuple[str, Json]:
    assert len(mapping) == 1, sorted(mapping)
    return next(iter(mapping.items()))


def by_path(template_json: Json, cfn_type: str, path: str) -> str:
    """Logical id of the ``cfn_type`` resource at construct ``path`` below the stack."""
    found = [
        logical_id
        for logical_id, resource in resources_of(template_json, cfn_type).items()
        if resource.get("Metadata", {}).get("aws:cdk:path", "").split("/", 1)[-1] == path
    ]
    assert len(found) == 1, (cfn_type, path, found)
    return found[0]
