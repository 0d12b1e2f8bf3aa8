"""The Kubernetes GET client's bounds, against a local HTTPS double (https_double.py).

Every test asserts what a user sees (the ReadFailure kind and its one-line cause) and,
where it matters, what was or was not sent. Time is bounded by small configured limits;
no test asserts on elapsed time.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import trustme

from eks_netpol_auditor.incluster.client import (
    METADATA_LIST,
    KubeClient,
    KubeReadError,
    ReadLimits,
)
from eks_netpol_auditor.incluster.model import FailureKind, ReadFailure
from eks_netpol_auditor.incluster.token import BearerToken
from eks_netpol_auditor.model import ApiAccess

from .https_double import (
    HttpsDouble,
    Reply,
    Seen,
    closed_port,
    json_reply,
    k8s_list,
    serve,
    status_reply,
)

TOKEN = BearerToken("k8s-aws-v1.dGVzdA")
FAST = ReadLimits(connect_timeout=2.0, read_timeout=0.5, budget_seconds=5.0)
NAMESPACES = "/api/v1/namespaces"


@pytest.fixture
def double() -> Iterator[HttpsDouble]:
    yield from serve()


def client(api: ApiAccess, limits: ReadLimits = FAST, **kwargs: Any) -> KubeClient:
    return KubeClient(api, TOKEN, limits, **kwargs)


def failure_of(api: ApiAccess, limits: ReadLimits = FAST, path: str = NAMESPACES) -> ReadFailure:
    """The ReadFailure of listing `path` (set-up failures included)."""
    with pytest.raises(KubeReadError) as raised, client(api, limits) as kube:
        kube.list_items(path)
    return raised.value.failure


def ns(name: str) -> dict[str, Any]:
    return {"metadata": {"name": name}}


# ------------------------------------------------------------------------------- TLS
def test_a_certificate_from_another_ca_is_refused_before_the_token_is_sent(
    double: HttpsDouble,
) -> None:
    failure = failure_of(double.api(ca=double.ca_data(trustme.CA())))
    assert failure.kind is FailureKind.UNREACHABLE
    assert failure.message.startswith("TLS verification failed")
    assert "certificate" in failure.message
    assert double.requests == []  # no request, so no token, reached the server


def test_a_certificate_for_another_host_is_refused() -> None:
    for double in serve(cert_for="kubernetes.example.com"):
        failure = failure_of(double.api())
        assert failure.kind is FailureKind.UNREACHABLE
        assert "TLS verification failed" in failure.message
        assert "mismatch" in failure.message.lower()
        assert double.requests == []


def test_the_system_trust_store_is_not_used(
    double: HttpsDouble, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Only the cluster's CA counts: a CA the machine trusts (SSL_CERT_FILE, which
    OpenSSL's default store reads) does not make another CA's certificate acceptable."""
    machine_ca = tmp_path / "machine-ca.pem"
    machine_ca.write_bytes(double.ca.cert_pem.bytes())
    monkeypatch.setenv("SSL_CERT_FILE", str(machine_ca))
    failure = failure_of(double.api(ca=double.ca_data(trustme.CA())))
    assert failure.kind is FailureKind.UNREACHABLE
    assert failure.message.startswith("TLS verification failed")


def test_a_ca_that_is_not_base64_pem_is_refused(double: HttpsDouble) -> None:
    failure = failure_of(double.api(ca="bm90IGEgY2VydGlmaWNhdGU="))  # "not a certificate"
    assert failure.kind is FailureKind.UNREACHABLE
    assert "not a base64 PEM certificate" in failure.message
    assert failure_of(double.api(ca="")).message.startswith(
        "DescribeCluster returned no certificateAuthority"
    )
    assert double.requests == []


def test_plain_http_endpoint_is_never_used(double: HttpsDouble) -> None:
    api = double.api()
    plain = ApiAccess(
        endpoint=f"http://127.0.0.1:{double.port}",
        certificate_authority=api.certificate_authority,
        public_access=True,
    )
    failure = failure_of(plain)
    assert failure.kind is FailureKind.UNREACHABLE
    assert "not an https URL" in failure.message
    assert double.requests == []


# --------------------------------------------------------------------- reachability
def closed_api(double: HttpsDouble) -> ApiAccess:
    return ApiAccess(
        endpoint=f"https://127.0.0.1:{closed_port()}",
        certificate_authority=double.ca_data(),
        public_access=True,
    )


def test_refused_connection_is_unreachable_with_its_cause(double: HttpsDouble) -> None:
    failure = failure_of(closed_api(double))
    assert failure.kind is FailureKind.UNREACHABLE
    assert failure.message.startswith("connection failed (")
    assert "refused" in failure.message.lower()
    assert failure.requests == 1


def test_a_hanging_server_is_unreachable_after_the_read_timeout(double: HttpsDouble) -> None:
    double.handler = lambda _seen: Reply(hang=True)
    limits = ReadLimits(connect_timeout=2.0, read_timeout=0.2, budget_seconds=5.0)
    failure = failure_of(double.api(), limits)
    assert failure.kind is FailureKind.UNREACHABLE
    assert failure.message == "no answer within 0.2 s (read timeout)"


@pytest.mark.timeout(30)
def test_a_trickling_server_cannot_hold_the_read_past_its_budget(double: HttpsDouble) -> None:
    """Each byte arrives well within the read timeout, so only the budget can stop it,
    and it must stop it while bytes are still coming, not after the whole body."""
    body = k8s_list([ns(f"n{i}") for i in range(20)]).body  # a few hundred bytes
    double.handler = lambda _seen: Reply(body=body, trickle=0.02)
    limits = ReadLimits(connect_timeout=2.0, read_timeout=2.0, budget_seconds=0.5)
    failure = failure_of(double.api(), limits)
    assert failure.kind is FailureKind.UNREACHABLE
    assert "0.5 s budget ran out while the answer was still arriving" in failure.message
    assert double.trickled < len(body) // 2


# -------------------------------------------------------------------------- size caps
TEN_MB = b'{"kind":"List","metadata":{},"items":[' + b" " * (10 * 1024 * 1024) + b"]}"


@pytest.mark.parametrize("no_length", [False, True], ids=["content-length", "streamed"])
def test_a_10_mb_answer_is_incomplete(double: HttpsDouble, no_length: bool) -> None:
    double.handler = lambda _seen: Reply(body=TEN_MB, no_length=no_length)
    limits = ReadLimits(read_timeout=5.0, max_response_bytes=1024 * 1024)
    failure = failure_of(double.api(), limits)
    assert failure.kind is FailureKind.INCOMPLETE
    assert (
        failure.message == f"GET {NAMESPACES}: the answer is larger than the 1 MiB cap per response"
    )


def test_default_cap_refuses_10_mb(double: HttpsDouble) -> None:
    double.handler = lambda _seen: Reply(body=TEN_MB, no_length=True)
    assert failure_of(double.api(), ReadLimits()).kind is FailureKind.INCOMPLETE


# ------------------------------------------------------------------------- pagination
def paged(pages: dict[str, Reply]) -> Any:
    """A handler answering by continue token ("" for the first page)."""
    return lambda seen: pages[seen.query.get("continue", "")]


def test_lists_follow_continue_tokens_with_the_page_size(double: HttpsDouble) -> None:
    double.handler = paged(
        {
            "": k8s_list([ns("a"), ns("b")], "t1"),
            "t1": k8s_list([ns("c")], "t2"),
            "t2": k8s_list([ns("d")]),
        }
    )
    with client(double.api(), ReadLimits(page_size=2)) as kube:
        items = kube.list_items(NAMESPACES, accept=METADATA_LIST)
        assert [i["metadata"]["name"] for i in items] == ["a", "b", "c", "d"]
        assert kube.requests == 3
    assert [r.query for r in double.requests] == [
        {"limit": "2"},
        {"limit": "2", "continue": "t1"},
        {"limit": "2", "continue": "t2"},
    ]
    assert {r.headers["accept"] for r in double.requests} == {METADATA_LIST}
    assert {r.headers["authorization"] for r in double.requests} == {TOKEN.authorization()}
    # one connection pool, one kept-alive connection for the whole read
    assert len({r.client for r in double.requests}) == 1


def test_a_stale_continue_token_restarts_the_list_once(double: HttpsDouble) -> None:
    stale = iter([True])

    def handler(seen: Seen) -> Reply:
        token = seen.query.get("continue", "")
        if token == "t1" and next(stale, False):
            return status_reply(410, "Expired", "The provided continue parameter is too old")
        return {"": k8s_list([ns("a")], "t1"), "t1": k8s_list([ns("b")])}[token]

    double.handler = handler
    with client(double.api()) as kube:
        items = kube.list_items(NAMESPACES)
        assert [i["metadata"]["name"] for i in items] == ["a", "b"]  # no duplicate "a"
        assert kube.requests == 4


def test_a_continue_token_stale_twice_is_incomplete(double: HttpsDouble) -> None:
    double.handler = paged(
        {"": k8s_list([ns("a")], "t1"), "t1": status_reply(410, "Expired", "too old")}
    )
    failure = failure_of(double.api())
    assert failure.kind is FailureKind.INCOMPLETE
    assert failure.http_status == 410
    assert "410 Gone twice" in failure.message
    assert failure.requests == 4


def test_more_pages_than_the_cap_is_incomplete(double: HttpsDouble) -> None:
    double.handler = lambda seen: k8s_list([ns("x")], "more")
    failure = failure_of(double.api(), ReadLimits(max_pages=3))
    assert failure.kind is FailureKind.INCOMPLETE
    assert "more than 3 pages" in failure.message
    assert len(double.requests) == 3


# ------------------------------------------------------------------------ throttling
def test_429_waits_as_retry_after_says_then_reads(double: HttpsDouble) -> None:
    throttled = iter([True])
    double.handler = lambda seen: (
        status_reply(429, "TooManyRequests", "slow down", {"Retry-After": "2"})
        if next(throttled, False)
        else k8s_list([ns("a")])
    )
    waits: list[float] = []
    with client(double.api(), sleep=waits.append) as kube:
        assert [i["metadata"]["name"] for i in kube.list_items(NAMESPACES)] == ["a"]
        assert kube.requests == 2
    assert waits == [2.0]


def test_429_beyond_the_budget_is_incomplete_without_waiting(double: HttpsDouble) -> None:
    double.handler = lambda seen: status_reply(429, "TooManyRequests", "x", {"Retry-After": "3600"})
    waits: list[float] = []
    kube = client(double.api(), sleep=waits.append)
    with pytest.raises(KubeReadError) as raised, kube:
        kube.list_items(NAMESPACES)
    assert raised.value.failure.kind is FailureKind.INCOMPLETE
    assert "Retry-After 3600 s, beyond the read's 5 s budget" in raised.value.failure.message
    assert waits == []


def test_429_that_never_ends_is_incomplete_after_the_allowed_waits(double: HttpsDouble) -> None:
    double.handler = lambda seen: status_reply(429, "TooManyRequests", "x", {"Retry-After": "0"})
    kube = client(double.api(), ReadLimits(max_throttle_waits=2), sleep=lambda _s: None)
    with pytest.raises(KubeReadError) as raised, kube:
        kube.list_items(NAMESPACES)
    assert "still throttled (HTTP 429) after 2 waits" in raised.value.failure.message
    assert len(double.requests) == 3


# -------------------------------------------------------------- statuses and redirects
def test_a_redirect_is_not_followed(double: HttpsDouble) -> None:
    double.handler = lambda seen: (
        Reply(302, headers={"Location": "/elsewhere"})
        if seen.path == NAMESPACES
        else k8s_list([ns("leaked")])
    )
    failure = failure_of(double.api())
    assert failure.kind is FailureKind.INCOMPLETE
    assert "HTTP 302 (redirect to '/elsewhere'); redirects are not followed" in failure.message
    assert [r.path for r in double.requests] == [NAMESPACES]


@pytest.mark.parametrize(
    ("code", "reason", "message", "expected"),
    [
        (401, "Unauthorized", "Unauthorized", "not authenticated (HTTP 401 Unauthorized"),
        (
            403,
            "Forbidden",
            'namespaces is forbidden: User "arn:aws:sts::1:assumed-role/a/b" cannot list',
            "access denied (HTTP 403 Forbidden: namespaces is forbidden",
        ),
    ],
)
def test_401_and_403_are_unauthorized_with_the_status_message(
    double: HttpsDouble, code: int, reason: str, message: str, expected: str
) -> None:
    double.handler = lambda seen: status_reply(code, reason, message)
    failure = failure_of(double.api())
    assert failure.kind is FailureKind.UNAUTHORIZED
    assert failure.http_status == code
    assert f"GET {NAMESPACES}: {expected}" in failure.message


def test_other_errors_are_incomplete_with_the_status_reason(double: HttpsDouble) -> None:
    double.handler = lambda seen: status_reply(500, "InternalError", "etcd\nleader changed")
    failure = failure_of(double.api())
    assert failure.kind is FailureKind.INCOMPLETE
    assert failure.message == f"GET {NAMESPACES}: HTTP 500 InternalError: etcd leader changed"


@pytest.mark.parametrize(
    "reply",
    [
        Reply(body=b"<html>proxy login</html>"),
        json_reply(["not", "an", "object"]),
        json_reply({"kind": "List", "metadata": {}, "items": "nope"}),
        json_reply({"kind": "List", "metadata": {}, "items": [1, 2]}),
    ],
    ids=["html", "json-array", "items-not-list", "item-not-object"],
)
def test_an_answer_that_is_not_a_kubernetes_list_is_incomplete(
    double: HttpsDouble, reply: Reply
) -> None:
    double.handler = lambda seen: reply
    assert failure_of(double.api()).kind is FailureKind.INCOMPLETE


def test_get_object_answers_none_for_an_absent_status(double: HttpsDouble) -> None:
    double.handler = lambda seen: status_reply(404, "NotFound", 'configmaps "x" not found')
    with client(double.api()) as kube:
        assert (
            kube.get_object("/api/v1/namespaces/kube-system/configmaps/x", absent=frozenset({404}))
            is None
        )
        with pytest.raises(KubeReadError) as raised:
            kube.get_object("/api/v1/namespaces/kube-system/configmaps/x")
    assert raised.value.failure.kind is FailureKind.INCOMPLETE
    assert "HTTP 404 NotFound" in raised.value.failure.message


def test_without_read1_as_in_urllib3_1_26_reads_and_caps_still_hold(
    double: HttpsDouble, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Some Lambda runtimes' botocore may come with urllib3 1.26, whose responses have no
    read1: the client falls back to read(chunk), and pages and the byte cap still work."""
    import urllib3.response

    monkeypatch.delattr(urllib3.response.HTTPResponse, "read1")
    monkeypatch.delattr(urllib3.response.BaseHTTPResponse, "read1")
    double.handler = paged({"": k8s_list([ns("a")], "t1"), "t1": k8s_list([ns("b")])})
    with client(double.api()) as kube:
        assert [i["metadata"]["name"] for i in kube.list_items(NAMESPACES)] == ["a", "b"]
    double.handler = lambda _seen: Reply(body=TEN_MB, no_length=True)
    failure = failure_of(double.api(), ReadLimits(read_timeout=5.0, max_response_bytes=1024 * 1024))
    assert failure.kind is FailureKind.INCOMPLETE
    assert "cap per response" in failure.message
