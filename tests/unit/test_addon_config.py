"""Parsing configurationValues as EKS stores them: JSON or YAML, any spacing and case."""

from __future__ import annotations

import json
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from eks_netpol_auditor.addon_config import (
    ConfigurationError,
    merge_enable_network_policy,
    network_policy_enabled,
    parse_configuration,
    to_json,
)

keys = st.text(
    st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")), min_size=1, max_size=12
).filter(lambda k: k != "enableNetworkPolicy")
scalars = st.one_of(st.text(max_size=20), st.integers(-(10**6), 10**6), st.booleans(), st.none())
documents = st.dictionaries(
    keys,
    st.recursive(
        scalars,
        lambda inner: st.one_of(
            st.lists(inner, max_size=4), st.dictionaries(keys, inner, max_size=4)
        ),
        max_leaves=15,
    ),
    max_size=6,
)
true_spellings = st.sampled_from(["true", "TRUE", "True", "tRuE"])


@given(documents, true_spellings, st.sampled_from([None, 0, 2, 4]))
def test_json_with_true_in_any_case_and_spacing_is_enabled(
    document: dict[str, Any], spelling: str, indent: int | None
) -> None:
    text = json.dumps({**document, "enableNetworkPolicy": spelling}, indent=indent)
    assert network_policy_enabled(parse_configuration(text))


@given(documents, st.sampled_from(["true", '"true"', "'TRUE'", "True", "  true  "]))
def test_yaml_string_or_boolean_true_is_enabled(document: dict[str, Any], value: str) -> None:
    block = yaml.safe_dump(document, default_flow_style=False) if document else ""
    text = block + f"enableNetworkPolicy: {value}\n"
    assert network_policy_enabled(parse_configuration(text))


@given(documents)
def test_absent_key_is_disabled_in_both_formats(document: dict[str, Any]) -> None:
    assert not network_policy_enabled(parse_configuration(json.dumps(document)))
    assert not network_policy_enabled(parse_configuration(yaml.safe_dump(document)))


@given(
    st.one_of(
        st.sampled_from(["false", "False", "yes", "on", "1", "enabled", ""]),
        st.integers(),
        st.none(),
    )
)
def test_anything_but_true_is_disabled(value: object) -> None:
    assert not network_policy_enabled(
        parse_configuration(json.dumps({"enableNetworkPolicy": value}))
    )


@given(documents)
def test_merge_adds_only_the_key_and_round_trips_through_json(document: dict[str, Any]) -> None:
    merged = json.loads(to_json(merge_enable_network_policy(document)))
    assert merged.pop("enableNetworkPolicy") == "true"
    assert merged == document


@pytest.mark.parametrize("text", ["[1, 2]", "just a string", "{unclosed", "a: [1", "- a\n- b"])
def test_non_mapping_or_broken_text_raises_a_clear_error(text: str) -> None:
    with pytest.raises(ConfigurationError, match="configurationValues"):
        parse_configuration(text)


def test_yaml_timestamps_survive_a_merge_unchanged() -> None:
    document = parse_configuration("note: 2024-01-01T10:00:00Z\n")
    assert json.loads(to_json(merge_enable_network_policy(document)))["note"] == (
        "2024-01-01T10:00:00Z"
    )
