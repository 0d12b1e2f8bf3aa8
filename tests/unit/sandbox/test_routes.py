"""One route table (sandbox/routes.py) drives the control API's dispatch, the client's URLs
and the docs table (issue 16, point 5): these fail when the three drift apart."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import sandbox.client
from sandbox.app import SandboxApp
from sandbox.routes import PREFIX, ROUTE, ROUTES, Route, markdown
from tests.doc_samples import SANDBOX_CONTROL_API

REPO = Path(__file__).resolve().parents[3]


def test_the_docs_table_is_current() -> None:
    """Regenerate with `python -m tests.doc_samples` when the table changes on purpose."""
    assert SANDBOX_CONTROL_API.read_text() == markdown()
    page = (REPO / "docs" / "sandbox.md").read_text()
    assert '--8<-- "docs/snippets/sandbox-control-api.md"' in page


def test_every_route_is_listed_once() -> None:
    assert len(ROUTE) == len(ROUTES)
    assert len({(r.method, r.template) for r in ROUTES}) == len(ROUTES)


@pytest.mark.parametrize("route", ROUTES, ids=lambda r: r.name)
def test_the_server_dispatches_every_route(route: Route) -> None:
    """Reaching a handler, not the dispatcher's own 404/405: a row without a handler, or a
    handler answering another path or method, fails here."""
    app = SandboxApp()
    path = route.path(**dict.fromkeys(route.labels, "nothing-here"))
    status, payload = app.control.handle(route.method, path, "", b"")
    error = payload.get("error", "") if isinstance(payload, dict) else ""
    assert not error.startswith(("no control endpoint", "method ")), (status, error)


def test_a_path_outside_the_table_is_not_served() -> None:
    status, payload = SandboxApp().control.handle("GET", f"{PREFIX}/clusters/a/b/c", "", b"")
    assert (status, payload["error"]) == (404, f"no control endpoint GET {PREFIX}/clusters/a/b/c")


def test_the_client_calls_every_route_and_only_those() -> None:
    """Each control endpoint has one typed client method, by the route's name."""
    source = Path(sandbox.client.__file__).read_text()
    called = {
        node.args[0].value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == "_request"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    }
    assert called == set(ROUTE)


def test_a_label_is_one_encoded_segment() -> None:
    """Cluster names are sent as one path segment (a "/" would otherwise split it)."""
    path = ROUTE["get_cluster"].path(region="eu-west-1", name="a/b c")
    assert path == f"{PREFIX}/clusters/eu-west-1/a%2Fb%20c"
    with pytest.raises(TypeError):
        ROUTE["get_cluster"].path(region="eu-west-1")
