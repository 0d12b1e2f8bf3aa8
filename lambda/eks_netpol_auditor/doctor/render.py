"""What `doctor` prints: one line per check with its fix underneath, or the JSON document.

Pure text from the checks. A terminal or pipe whose encoding has no ✓/✗ (a C locale,
cp1252) gets ASCII marks instead of a UnicodeEncodeError.
"""

from __future__ import annotations

import codecs
from collections import Counter
from collections.abc import Sequence
from typing import Any, TextIO

from .checks import STATUS_WORDS, Check, Facts, Identity, Mark, exit_code

ASCII_MARKS = {Mark.OK: "ok", Mark.FAIL: "FAIL", Mark.UNKNOWN: "?"}
JSON_VERSION = 1


def _marks(encoding: str | None) -> dict[Mark, str]:
    try:
        "".join(mark.value for mark in Mark).encode(codecs.lookup(encoding or "ascii").name)
    except (LookupError, UnicodeEncodeError):
        return ASCII_MARKS
    return {mark: mark.value for mark in Mark}


def summary(checks: Sequence[Check]) -> dict[str, int]:
    counts = Counter(check.mark for check in checks)
    return {STATUS_WORDS[mark]: counts.get(mark, 0) for mark in Mark}


def render_table(facts: Facts, checks: Sequence[Check], out: TextIO) -> None:
    marks = _marks(getattr(out, "encoding", None))
    width = max(len(check.title) for check in checks)
    for check in checks:
        out.write(f"{marks[check.mark]} {check.title.ljust(width)}  {check.detail}\n")
        if check.fix:
            out.write(f"{' ' * (len(marks[check.mark]) + 1)}fix: {check.fix}\n")
    counts = summary(checks)
    out.write(
        f"\n{counts['ok']} ok, {counts['fail']} failed, {counts['unknown']} unknown "
        f"(home region {facts.home_region}); each cluster's access entry is checked by "
        "scan --in-cluster (NOT_ENROLLED), not here\n"
    )


def to_json(facts: Facts, checks: Sequence[Check]) -> dict[str, Any]:
    """The documented document (docs, "doctor"): stable check ids, status ok|fail|unknown."""
    identity = facts.identity if isinstance(facts.identity, Identity) else None
    return {
        "version": JSON_VERSION,
        "account": identity.account if identity else None,
        "caller": identity.arn if identity else None,
        "home_region": facts.home_region,
        "stack_name": facts.stack_name,
        "regions": list(facts.regions),
        "summary": summary(checks),
        "exit_code": exit_code(checks),
        "checks": [check.to_json() for check in checks],
    }
