"""Sections of bench/RESULTS.md, each under its own `## ` heading, so the cases that are
run on their own (`bench.events`, `bench.ingestion`) replace only their part of the file."""

from __future__ import annotations

from pathlib import Path

RESULTS_PATH = Path(__file__).with_name("RESULTS.md")


def find_section(text: str, heading: str) -> str | None:
    """The section that starts with `heading`, up to the next `## ` heading, or None."""
    start = text.find(heading)
    if start < 0:
        return None
    end = text.find("\n## ", start + len(heading))
    return text[start : None if end < 0 else end + 1]


def replace_section(text: str, heading: str, section: str) -> str:
    """`text` with its `heading` section replaced by `section` (appended when absent)."""
    old = find_section(text, heading)
    if old is None:
        return text.rstrip("\n") + "\n\n" + section
    return text.replace(old, section, 1)
