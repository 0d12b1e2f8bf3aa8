"""The settings table is the one description of every variable, flag and parameter.

The CLI help and the docs table are generated from it, and the engine's defaults must be
the table's: each test fails when a row is missing or says something else than the code.
(The stack parameters are checked against the synthesized templates in
tests/unit/infra/test_settings_parameters.py.)
"""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from eks_netpol_auditor import cli
from eks_netpol_auditor.config import settings_from_env
from eks_netpol_auditor.names import Env
from eks_netpol_auditor.settings_table import (
    SETTINGS,
    UNRELEASED,
    Dynamic,
    by_env,
    by_flag,
    flag_help,
    markdown_tables,
)

REPO = Path(__file__).resolve().parents[2]
DOCS_TABLE = REPO / "docs" / "snippets" / "settings-table.md"
BASE = {"AWS_REGION": "us-east-1"}


def test_every_variable_has_exactly_one_row() -> None:
    rows = [s.env for s in SETTINGS if s.env is not None]
    assert sorted(rows) == sorted(Env)


@pytest.mark.parametrize("variable", list(Env))
def test_the_tables_default_is_the_engines(variable: Env) -> None:
    """Setting a variable to the table's default changes nothing, and the default is
    valid: a row whose default differs from config.Settings makes these unequal."""
    row = by_env(variable)
    if row.default is None:
        assert row.stack_value is not None, f"{variable}: no default and no stack value"
        return
    assert not isinstance(row.default, Dynamic)
    assert settings_from_env({**BASE, variable: str(row.default)}) == settings_from_env(BASE)


def test_a_different_default_is_caught() -> None:
    """The check above can fail: a value other than the default changes the settings."""
    assert settings_from_env({**BASE, Env.MAX_REMEDIATIONS_PER_RUN: "6"}) != settings_from_env(BASE)


def _options() -> list[tuple[str, argparse.Action]]:
    parser = cli.build_parser()
    (commands,) = [a for a in parser._actions if isinstance(a, argparse._SubParsersAction)]
    return [
        (command, action)
        for command, sub in commands.choices.items()
        for action in sub._actions
        if action.option_strings and not isinstance(action, argparse._HelpAction)
    ]


def test_every_cli_flag_has_a_row_and_its_help_comes_from_it() -> None:
    for command, action in _options():
        for flag in action.option_strings:
            row = by_flag(command, flag)  # KeyError: a flag without a row
            assert action.help == flag_help(command, flag)
            if row.choices and action.choices is not None:
                assert tuple(action.choices) == row.choices
            if flag == row.flags[0] and isinstance(row.default, str) and row.env is None:
                assert action.default == row.default, flag


def test_every_row_flag_exists_on_the_command_line() -> None:
    offered = {(command, flag) for command, action in _options() for flag in action.option_strings}
    for row in SETTINGS:
        for flag in row.flags:
            assert (row.command, flag) in offered


def test_every_row_says_when_it_came() -> None:
    changelog = (REPO / "CHANGELOG.md").read_text()
    released = set(re.findall(r"^## \[(\d+\.\d+\.\d+)\]", changelog, re.MULTILINE))
    assert released
    for row in SETTINGS:
        assert row.since in released | {UNRELEASED}, row
        assert row.meaning.endswith("."), row


def test_the_docs_table_is_current() -> None:
    """docs/configuration.md includes this file; regenerate it with
    `python -m eks_netpol_auditor.settings_table > docs/snippets/settings-table.md`."""
    assert DOCS_TABLE.read_text() == markdown_tables()
    page = (REPO / "docs" / "configuration.md").read_text()
    assert '--8<-- "docs/snippets/settings-table.md"' in page
