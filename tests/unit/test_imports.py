"""The import graph stays a layered DAG: no cycles, no upward imports (issue 16, point 4).

Why grimp: it is the graph library under import-linter, parses imports statically (no
module is executed) and counts imports under ``if TYPE_CHECKING:`` too. A cycle hidden
behind TYPE_CHECKING is still two modules that cannot be understood or moved one without
the other, so it counts here as well.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import grimp
import pytest

PACKAGES = ("eks_netpol_auditor", "infra", "sandbox", "bench")

# Layers, top first: a package may import only from the packages after it. `app` is the
# CDK entry point (`app.py`, a module, so grimp sees it as external), above everything;
# the sandbox is a test double of AWS and must not share code with what it checks.
MAY_NOT_IMPORT = {
    "eks_netpol_auditor": ("infra", "sandbox", "bench", "tests", "app"),
    "sandbox": ("eks_netpol_auditor", "infra", "bench", "tests", "app"),
    "infra": ("sandbox", "bench", "tests", "app"),
    "bench": ("infra", "tests", "app"),
}


@pytest.fixture(scope="module")
def graph() -> grimp.ImportGraph:
    return grimp.build_graph(*PACKAGES, include_external_packages=True, cache_dir=None)


def strongly_connected(nodes: Iterable[str], edges: dict[str, set[str]]) -> Iterator[set[str]]:
    """Tarjan's algorithm, iterative; yields every component of more than one module."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    for root in nodes:
        if root in index:
            continue
        work = [(root, iter(sorted(edges[root])))]
        index[root] = low[root] = len(index)
        stack.append(root)
        on_stack.add(root)
        while work:
            node, children = work[-1]
            child = next(children, None)
            if child is not None:
                if child not in index:
                    index[child] = low[child] = len(index)
                    stack.append(child)
                    on_stack.add(child)
                    work.append((child, iter(sorted(edges[child]))))
                elif child in on_stack:
                    low[node] = min(low[node], index[child])
                continue
            work.pop()
            if work:
                low[work[-1][0]] = min(low[work[-1][0]], low[node])
            if low[node] == index[node]:
                component = set()
                while True:
                    member = stack.pop()
                    on_stack.discard(member)
                    component.add(member)
                    if member == node:
                        break
                if len(component) > 1:
                    yield component


def internal_cycles(graph: grimp.ImportGraph) -> list[list[str]]:
    ours = {m for m in graph.modules if m.split(".")[0] in PACKAGES}
    edges = {m: graph.find_modules_directly_imported_by(m) & ours for m in ours}
    return sorted(sorted(c) for c in strongly_connected(sorted(ours), edges))


def test_strongly_connected_finds_a_cycle_and_only_cycles() -> None:
    edges = {"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}, "e": set()}
    assert list(strongly_connected(sorted(edges), edges)) == [{"a", "b", "c"}]


def test_no_import_cycles(graph: grimp.ImportGraph) -> None:
    assert internal_cycles(graph) == [], "modules that import each other, directly or not"


@pytest.mark.parametrize("package", sorted(MAY_NOT_IMPORT))
def test_no_upward_imports(graph: grimp.ImportGraph, package: str) -> None:
    upward = [
        f"{i['importer']} -> {i['imported']}"
        for above in MAY_NOT_IMPORT[package]
        if above in graph.modules or any(m.startswith(f"{above}.") for m in graph.modules)
        for expression in (f"{package}.** -> {above}", f"{package}.** -> {above}.**")
        for i in graph.find_matching_direct_imports(import_expression=expression)
    ]
    assert upward == []


def test_sandbox_seeds_the_tags_the_auditor_reads() -> None:
    """The sandbox may not import the auditor, so its copy of the user-facing tag names is
    pinned here: a renamed tag would otherwise leave the demo's exempt and auto-remediate
    clusters silently untagged."""
    from eks_netpol_auditor import model
    from sandbox import seeds

    assert (seeds.EXEMPT_TAG, seeds.AUTO_REMEDIATE_TAG) == (
        model.EXEMPT_TAG,
        model.AUTO_REMEDIATE_TAG,
    )
