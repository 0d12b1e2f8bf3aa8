"""Reading configurationValues as EKS stores them (JSON or YAML): the verdict's reading,
and the exact reading behind every UpdateAddon request and enable command.

Property tests (hypothesis) prove the merged document is the user's document plus
enableNetworkPolicy "true" and nothing else, for JSON and YAML input.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from eks_netpol_auditor import addon_config
from eks_netpol_auditor.addon_config import (
    ENABLE_KEY,
    MAX_DEPTH,
    ConfigurationError,
    check_bounded,
    enable_change,
    enforcing_mode,
    merge_enable_network_policy,
    network_policy_enabled,
    read_for_verdict,
    strictly_equal,
    to_json,
    why_not_enabled,
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


@given(documents, st.sampled_from([None, 0, 2, 4]))
def test_json_string_true_is_enabled_however_the_document_is_laid_out(
    document: dict[str, Any], indent: int | None
) -> None:
    text = json.dumps({**document, "enableNetworkPolicy": "true"}, indent=indent)
    assert network_policy_enabled(read_for_verdict(text))


# Plain YAML true/True/TRUE is a boolean (YAML 1.1 and 1.2 agree), which the chart's Go
# templates print as "true"; surrounding spaces of a plain scalar are not part of it.
@given(documents, st.sampled_from(["true", '"true"', "'true'", "True", "TRUE", "  true  "]))
def test_yaml_string_or_boolean_true_is_enabled(document: dict[str, Any], value: str) -> None:
    block = yaml.safe_dump(document, default_flow_style=False) if document else ""
    text = block + f"enableNetworkPolicy: {value}\n"
    assert network_policy_enabled(read_for_verdict(text))


# Go's strconv.ParseBool would start the node agent with these, but the network policy
# controller compares the ConfigMap value with "true" exactly, and nothing trims it.
AGENT_ONLY = ["1", "t", "T", "TRUE", "True"]
PADDED = [" true", "true ", " True ", "\ttrue", "true\n", " 1 "]
OTHER = ["tRuE", "yes", "on", "enabled", "truE", "false", "False", "0", ""]


@pytest.mark.parametrize("value", AGENT_ONLY + PADDED + OTHER)
def test_only_exactly_true_turns_enforcement_on(value: str) -> None:
    """What the controller would not read as on is disabled, with the reason."""
    for text in (json.dumps({"enableNetworkPolicy": value}), yaml.safe_dump({ENABLE_KEY: value})):
        document = read_for_verdict(text)
        assert document[ENABLE_KEY] == value, "quoted YAML keeps the string as written"
        assert not network_policy_enabled(document)
    why = why_not_enabled({ENABLE_KEY: value})
    if value in PADDED:
        assert "padded with whitespace" in why
    elif value in AGENT_ONLY:
        assert 'turns on only for exactly "true"' in why
    else:
        assert why.endswith('not "true"')
    assert json.dumps(value) in why


def test_the_reason_names_an_absent_key_and_clips_long_values() -> None:
    assert why_not_enabled({}) == 'enableNetworkPolicy is absent (the default is "false")'
    assert len(why_not_enabled({ENABLE_KEY: {"x": "y" * 500}})) < 100


@given(documents)
def test_absent_key_is_disabled_in_both_formats(document: dict[str, Any]) -> None:
    assert not network_policy_enabled(read_for_verdict(json.dumps(document)))
    assert not network_policy_enabled(read_for_verdict(yaml.safe_dump(document)))


@given(
    st.one_of(
        st.sampled_from(["false", "False", "yes", "on", "1", "enabled", "", " true", "True"]),
        st.integers(),
        st.none(),
    )
)
def test_anything_but_true_is_disabled(value: object) -> None:
    assert not network_policy_enabled(read_for_verdict(json.dumps({"enableNetworkPolicy": value})))


@given(documents)
def test_merge_adds_only_the_key_and_round_trips_through_json(document: dict[str, Any]) -> None:
    merged = json.loads(to_json(merge_enable_network_policy(document)))
    assert merged.pop("enableNetworkPolicy") == "true"
    assert merged == document


@pytest.mark.parametrize("text", ["[1, 2]", "just a string", "{unclosed", "a: [1", "- a\n- b"])
def test_non_mapping_or_broken_text_raises_a_clear_error(text: str) -> None:
    with pytest.raises(ConfigurationError, match="configurationValues"):
        read_for_verdict(text)


def test_yaml_timestamps_survive_a_merge_unchanged() -> None:
    document = read_for_verdict("note: 2024-01-01T10:00:00Z\n")
    assert json.loads(to_json(merge_enable_network_policy(document)))["note"] == (
        "2024-01-01T10:00:00Z"
    )


# -------------------------------------------- the exact reading and the merge (what we send)


def json_safe_documents(text: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, Any]]:
    scalars = (
        st.none()
        | st.booleans()
        | st.integers(min_value=-(2**63), max_value=2**63)
        | st.floats(allow_nan=False, allow_infinity=False)
        | text
    )
    return st.dictionaries(
        text,
        st.recursive(
            scalars,
            lambda children: (
                st.lists(children, max_size=4) | st.dictionaries(text, children, max_size=4)
            ),
            max_leaves=20,
        ),
        max_size=6,
    )


# Printable text of the Basic Multilingual Plane. Control characters, NEL/LS/PS and astral
# \\u escapes are refused on purpose (the tests below), because YAML 1.1, YAML 1.2 and JSON
# read them differently; PyYAML's emitter also mangles some of them.
printable = st.characters(categories=("L", "N", "P", "S", "Zs"), max_codepoint=0xFFFF)
json_documents = json_safe_documents(st.text(printable, max_size=12))
yaml_documents = json_documents


def enabled(document: dict[str, Any]) -> bool:
    value = document.get(ENABLE_KEY)
    return value is True or value == "true"


def expected_merge(original: dict[str, Any]) -> dict[str, Any]:
    expected = dict(original)
    expected[ENABLE_KEY] = "true"
    return expected


def assert_only_the_key_changed(original: dict[str, Any], text: str) -> None:
    if enabled(original):  # PASSED clusters never reach the merge; it refuses them too
        with pytest.raises(ConfigurationError):
            enable_change(text)
        return
    change = enable_change(text)
    merged, payload = change.merged, change.payload
    sent = json.loads(payload)
    expected = expected_merge(original)
    # Type-exact and order-exact: 1 must stay 1 (not 1.0 or true), every key where it was.
    assert strictly_equal(sent, expected), (sent, expected)
    assert strictly_equal(merged, expected)
    assert {k: v for k, v in sent.items() if k != ENABLE_KEY} == {
        k: v for k, v in original.items() if k != ENABLE_KEY
    }
    assert sent[ENABLE_KEY] == "true"


@settings(max_examples=300, deadline=None)
@given(json_documents, st.booleans(), st.booleans())
def test_merge_of_json_configuration_adds_only_the_key(
    original: dict[str, Any], ascii_only: bool, pretty: bool
) -> None:
    text = json.dumps(original, ensure_ascii=ascii_only, indent=2 if pretty else None)
    assert_only_the_key_changed(original, text)


@settings(max_examples=300, deadline=None)
@given(yaml_documents, st.booleans(), st.integers(min_value=0, max_value=4))
def test_merge_of_yaml_configuration_adds_only_the_key(
    original: dict[str, Any], flow: bool, extra_indent: int
) -> None:
    text = yaml.safe_dump(
        original,
        default_flow_style=flow,
        sort_keys=False,
        indent=2 + extra_indent,
        allow_unicode=True,
    )
    try:
        enable_change(text)
    except ConfigurationError as error:
        refusal = str(error)
    else:
        refusal = ""
    if refusal:
        # The only refusal allowed: a plain YAML scalar whose type differs between YAML 1.1
        # and JSON/YAML 1.2 (PyYAML writes e.g. 1e+20 plain). Refusing is safe; guessing not.
        assert "depends on the YAML version" in refusal
        return
    assert_only_the_key_changed(original, text)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ('{"a":"\\ud83d\\ude00"}', "\U0001f600"),  # a surrogate-pair escape is one character
        ('{"a":"x\x7fy"}', "x\x7fy"),  # control characters are legal in JSON strings
        ('{"a":1e5}', 100000.0),  # a JSON number, which YAML 1.1 would read as a string
    ],
)
def test_json_text_is_read_with_json_rules(text: str, value: object) -> None:
    merged = enable_change(text).merged
    assert strictly_equal(merged["a"], value)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('{"env":{"a":"1","a":"2"}}', "repeats a key"),
        ('{"livenessProbeTimeoutSeconds":NaN}', "NaN"),
        ('{"livenessProbeTimeoutSeconds":-Infinity}', "-Infinity"),
    ],
)
def test_json_that_cannot_be_sent_back_unchanged_is_refused(text: str, message: str) -> None:
    with pytest.raises(ConfigurationError, match=message):
        enable_change(text)


def test_yaml_keys_that_json_would_read_as_constants_are_still_yaml() -> None:
    merged = enable_change("NaN: x\nInfinity: y\n").merged
    assert merged == {"NaN": "x", "Infinity": "y", ENABLE_KEY: "true"}


def test_already_enabled_under_json_rules_is_not_rewritten() -> None:
    with pytest.raises(ConfigurationError, match="already reads as enabled"):
        enable_change('{"enableNetworkPolicy":"true"}')


def test_a_padded_or_agent_only_value_is_replaced_by_exactly_true() -> None:
    for value in ("True", " true "):
        payload = enable_change(json.dumps({"a": 1, ENABLE_KEY: value})).payload
        assert payload == '{"a":1,"enableNetworkPolicy":"true"}'


def test_merge_keeps_key_order_and_replaces_a_false_in_place() -> None:
    text = '{"a":1,"enableNetworkPolicy":"false","b":{"c":[1,2.5,null,true]}}'
    payload = enable_change(text).payload
    assert payload == '{"a":1,"enableNetworkPolicy":"true","b":{"c":[1,2.5,null,true]}}'


@pytest.mark.parametrize("char", ["\x85", "\u2028", "\u2029"])
def test_yaml_line_breaks_that_differ_between_versions_are_refused(char: str) -> None:
    with pytest.raises(ConfigurationError, match="NEL/LS/PS"):
        enable_change(f"env:\n  ADDITIONAL_ENI_TAGS: 'a{char}b'\n")


def test_yaml_anchors_are_expanded_not_lost() -> None:
    text = "nodeAgent: &na\n  enablePolicyEventLogs: 'true'\ninit: *na\n"
    merged = enable_change(text).merged
    assert merged["init"] == merged["nodeAgent"] == {"enablePolicyEventLogs": "true"}


def test_configuration_values_are_parsed_in_this_module_only() -> None:
    """One reader: no other module of the Lambda package may parse YAML (or configuration)."""
    package = Path(addon_config.__file__).parent
    parsers = sorted(
        str(path.relative_to(package))
        for path in package.rglob("*.py")
        if re.search(r"^\s*(import yaml|from yaml)", path.read_text(), re.MULTILINE)
    )
    assert parsers == ["addon_config.py"]


# -------------------------------------------- the size guards, each under a watchdog
#
# Without its guard, each of these inputs makes a reader recurse, loop or expand for ever
# (the alias bomb below is 17 GB once written out as JSON). json.dumps and the YAML
# composer run in C, where neither signal.alarm nor a thread can interrupt them, so each
# case runs in a child process with a deadline and an address-space cap: a missing guard
# fails its test instead of hanging the suite and eating the machine's memory.

WATCHDOG_SECONDS = 30
WATCHDOG_MEMORY_BYTES = 1 << 30
_CHILD = """
import json, sys
try:
    import resource
    resource.setrlimit(resource.RLIMIT_AS, ({limit}, {limit}))
except (ImportError, ValueError, OSError):
    pass  # no cap where the platform has none; the deadline still holds
from eks_netpol_auditor import addon_config
try:
    getattr(addon_config, sys.argv[1])(sys.stdin.read())
except addon_config.ConfigurationError as error:
    print(json.dumps({{"refused": str(error)}}))
else:
    print(json.dumps({{"refused": None}}))
"""


def refusal_in_child(reader: str, text: str) -> str | None:
    """The reader's ConfigurationError message (None if it accepted), from a child process."""
    package_root = Path(addon_config.__file__).parents[1]
    try:
        done = subprocess.run(
            [sys.executable, "-c", _CHILD.format(limit=WATCHDOG_MEMORY_BYTES), reader],
            input=text,
            capture_output=True,
            text=True,
            timeout=WATCHDOG_SECONDS,
            env={**os.environ, "PYTHONPATH": str(package_root)},
            check=False,
        )
    except subprocess.TimeoutExpired:
        pytest.fail(f"{reader} still running after {WATCHDOG_SECONDS}s: a size guard is missing")
    assert done.returncode == 0, done.stderr[-2000:]
    refused: str | None = json.loads(done.stdout)["refused"]
    return refused


def billion_laughs(levels: int) -> str:
    """~50 bytes per level; written out as JSON it would be 9**levels * 5 bytes."""
    lines = ['l0: &l0 ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    lines += [f"l{i}: &l{i} [{','.join([f'*l{i - 1}'] * 9)}]" for i in range(1, levels)]
    return "\n".join(lines) + "\n"


def nested_json(depth: int) -> str:
    return '{"a":' * depth + "1" + "}" * depth


GUARDED = {
    "one level too deep (JSON)": (nested_json(MAX_DEPTH + 1), "nested more than 64 levels"),
    "far too deep for the parser (JSON)": (nested_json(100_000), "nested more than 64 levels"),
    "one level too deep (YAML)": (
        "".join(" " * i + f"k{i}:\n" for i in range(MAX_DEPTH)) + " " * MAX_DEPTH + "v: 1\n",
        "nested more than 64 levels",
    ),
    "alias bomb": (billion_laughs(10), "expands to more than 100000 values"),
    "alias cycle": ("env: &loop [*loop]\n", "refers to itself"),
}


@pytest.mark.parametrize("reader", ["read_for_verdict", "read_exact", "enable_change"])
@pytest.mark.parametrize(("text", "words"), GUARDED.values(), ids=list(GUARDED))
def test_size_guards_refuse_before_anything_expands(reader: str, text: str, words: str) -> None:
    refused = refusal_in_child(reader, text)
    assert refused is not None and words in refused, refused


def test_the_depth_limit_is_inclusive() -> None:
    assert read_for_verdict(nested_json(MAX_DEPTH)) == json.loads(nested_json(MAX_DEPTH))
    assert (
        enable_change(nested_json(MAX_DEPTH)).merged["a"] == json.loads(nested_json(MAX_DEPTH))["a"]
    )


class _CountingList(list[Any]):
    """A list that counts how often its items are walked (one walk = one node visit)."""

    walks = 0

    def __iter__(self) -> Any:
        _CountingList.walks += 1
        return super().__iter__()


def test_the_bound_check_visits_each_shared_node_a_constant_number_of_times() -> None:
    """Issue 16, point 8: the check itself must stay linear in the document's distinct nodes
    on an alias bomb, however far the aliases would expand; counted, not timed. Twelve
    levels of ten references to the level below share 13 nodes and expand to 10**13
    values; a check that walked every reference would walk about 10**5 nodes before the
    first one over the limit."""
    node = _CountingList(["lol"] * 10)
    distinct = 1
    for _ in range(12):
        node = _CountingList([node] * 10)  # what a YAML alias makes: the same object again
        distinct += 1
    _CountingList.walks = 0
    with pytest.raises(ConfigurationError, match="expands to more than 100000 values"):
        check_bounded({"bomb": node})
    assert 0 < _CountingList.walks <= 2 * distinct


# ---------------------------------------------------------------------------- enforcing mode


@pytest.mark.parametrize(
    ("text", "mode"),
    [
        (None, None),
        ('{"enableNetworkPolicy":"true"}', None),
        ('{"env":{"WARM_IP_TARGET":"5"}}', None),
        ('{"env":{"NETWORK_POLICY_ENFORCING_MODE":"strict"}}', "strict"),
        ("env:\n  NETWORK_POLICY_ENFORCING_MODE: standard\n", "standard"),
        # The node agent lower-cases the value (aws-network-policy-agent IsStrictMode).
        ('{"env":{"NETWORK_POLICY_ENFORCING_MODE":"STRICT"}}', "strict"),
    ],
)
def test_enforcing_mode_is_read_from_the_add_on_env(text: str | None, mode: str | None) -> None:
    assert enforcing_mode(text) == mode


@pytest.mark.parametrize(
    ("text", "why"),
    [
        # ipamd refuses any other value ("invalid Network policy mode").
        ('{"env":{"NETWORK_POLICY_ENFORCING_MODE":"deny"}}', "neither"),
        ('{"env":{"NETWORK_POLICY_ENFORCING_MODE":" strict"}}', "neither"),
        ('{"env":["NETWORK_POLICY_ENFORCING_MODE=strict"]}', "not a mapping"),
        # The exact reading: which of two equal keys EKS kept is unknown, so no claim.
        (
            '{"env":{"NETWORK_POLICY_ENFORCING_MODE":"standard",'
            '"NETWORK_POLICY_ENFORCING_MODE":"strict"}}',
            "repeats a key",
        ),
    ],
)
def test_an_enforcing_mode_in_doubt_is_refused(text: str, why: str) -> None:
    with pytest.raises(ConfigurationError, match=why):
        enforcing_mode(text)
