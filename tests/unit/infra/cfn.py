"""Helpers for reading a synthesized CloudFormation template in the CDK tests."""

from __future__ import annotations

from typing import Any

Json = dict[str, Any]


def resources_of(template_json: Json, cfn_type: str) -> dict[str, Json]:
    return {k: v for k, v in template_json["Resources"].items() if v["Type"] == cfn_type}


def only(mapping: dict[str, Json]) -> tuple[str, Json]:
    assert len(mapping) == 1, sorted(mapping)
    return next(iter(mapping.items()))
