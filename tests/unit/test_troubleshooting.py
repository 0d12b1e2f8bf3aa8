"""Every one-line error the CLI, the Lambda or the report can print has a row in
docs/troubleshooting.md with its cause and what to do.

The messages are found in the code itself (its syntax tree), so a new message without a
row, or a row whose message no longer exists, fails here. A message is the text given to
one of the error sinks below; a `…` stands for each value filled in at run time.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGE = REPO / "lambda" / "eks_netpol_auditor"
PAGE = REPO / "docs" / "troubleshooting.md"
# Exceptions whose text is the one line a user sees (CLI stderr, the Lambda's log and
# error, the report), the CLI's own error printer, and a cluster's error in the results.
ERROR_CALLS = {
    "ConfigError",
    "AuditAborted",
    "AuditInterrupted",
    "ReportUnavailable",
    "EventRejected",
    "InvalidEvent",
    "NothingAudited",
    "RecordFailed",
    "_fail",
}
# (cluster, message) pairs that become a cluster's error (publisher, event targets).
ERROR_LISTS = {"failed", "warnings", "refused"}
# Variables that hold such a line before it is printed or raised (poison SQS records, the
# CLI's Ctrl-C lines).
ERROR_VARIABLES = {"message", "reason"}
SETUP_EXPLAINER = "explain_setup_error"
# Rows below this heading describe lines the code does not spell out (argparse's usage
# errors, AWS's own error messages) and are not matched against the code.
UNCHECKED = "## Other lines"


def _template(node: ast.expr, constants: dict[str, str]) -> str | None:
    """The message with `…` for every value filled in, or None if it is not our text."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.JoinedStr):
        return "".join(
            part.value if isinstance(part, ast.Constant) and isinstance(part.value, str) else "…"
            for part in node.values
        )
    if isinstance(node, ast.Name):
        return constants.get(node.id)
    return None


def _call_name(node: ast.Call) -> str | None:
    if isinstance(node.func, ast.Name):
        return node.func.id
    if isinstance(node.func, ast.Attribute):
        return node.func.attr
    return None


def _messages_in(tree: ast.Module) -> set[str]:
    constants = {
        target.id: node.value.value
        for node in tree.body
        if isinstance(node, ast.Assign)
        and isinstance(node.value, ast.Constant)
        and isinstance(node.value.value, str)
        for target in node.targets
        if isinstance(target, ast.Name)
    }
    found: list[ast.expr] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Call):
            name = _call_name(node)
            if name in ERROR_CALLS and node.args:
                found.append(node.args[0])
            elif name == "AuditError" and len(node.args) >= 3:
                found.append(node.args[2])
            elif (
                name == "append"
                and isinstance(node.func, ast.Attribute)
                and _call_name_of(node.func.value) in ERROR_LISTS
                and node.args
                and isinstance(node.args[0], ast.Tuple)
            ):
                found.append(node.args[0].elts[-1])
        elif isinstance(node, ast.Assign) and any(
            isinstance(target, ast.Name) and target.id in ERROR_VARIABLES for target in node.targets
        ):
            found.append(node.value)
        elif isinstance(node, ast.FunctionDef) and node.name == SETUP_EXPLAINER:
            found += [r.value for r in ast.walk(node) if isinstance(r, ast.Return) and r.value]
    return {t for t in (_template(n, constants) for n in found) if t is not None}


def _call_name_of(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        return node.attr
    return None


def code_messages() -> set[str]:
    messages: set[str] = set()
    for path in sorted(PACKAGE.rglob("*.py")):
        messages |= _messages_in(ast.parse(path.read_text(), filename=str(path)))
    return messages


def _rows(text: str) -> list[list[str]]:
    rows = []
    for line in text.splitlines():
        if line.startswith("|") and not re.fullmatch(r"\|[-| :]+\|", line):
            rows.append([cell.strip() for cell in line.strip().strip("|").split(" | ")])
    return rows


def page_rows() -> dict[str, list[str]]:
    """Message -> its row, from the checked part of the page (code spans, `…` kept)."""
    checked = PAGE.read_text().split(UNCHECKED)[0]
    rows: dict[str, list[str]] = {}
    for row in _rows(checked):
        match = re.fullmatch(r"(`+) ?(.*?) ?\1", row[0])
        if match:
            rows[match.group(2)] = row
    return rows


def test_the_sinks_find_messages_everywhere() -> None:
    """The search is not vacuous: known messages of each kind are found."""
    found = code_messages()
    for message in (
        "… must be true or false, got …",  # config, exit 2
        "cannot identify the account: …",  # audit and report, exit 3
        "unsupported EKS API call …",  # a rejected event (Lambda)
        "no usable AWS credentials (standard credential chain): …",  # setup, exit 2
        "not evaluated: the run's time budget was exhausted",  # a cluster's error
        "Security Hub CSPM rejected the finding in …: …",  # a cluster's publish error
    ):
        assert message in found, message


def test_every_message_has_a_row_with_cause_and_action() -> None:
    rows = page_rows()
    missing = sorted(code_messages() - rows.keys())
    assert not missing, f"add rows to docs/troubleshooting.md for: {missing}"
    for message, row in rows.items():
        assert len(row) == 3 and all(row), f"{message}: needs a cause and what to do"


def test_every_row_is_a_message_the_code_still_prints() -> None:
    stale = sorted(page_rows().keys() - code_messages())
    assert not stale, f"rows for messages the code no longer prints: {stale}"
