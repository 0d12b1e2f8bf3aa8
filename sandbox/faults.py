"""Fault injection, latency injection and call counting for the sandbox front end.

Why: the auditor's value is in how it behaves when AWS misbehaves (throttling, SCP
denials, regions that are not enabled, 5xx) and how it performs at realistic latency.
Every request, for every service, passes ``FaultInjector.pick`` before dispatch.

Error codes per service come from the botocore models (``error_shapes``) and the service
documentation; ``FAULT_ERRORS`` is the single table. Probabilistic rules draw from their
own seeded ``random.Random``, so a given sequence of requests sees the same faults; under
concurrency the interleaving (and therefore which request gets the fault) can vary.
"""

from __future__ import annotations

import itertools
import random
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

FaultKind = Literal[
    "throttle",
    "server_error",
    "access_denied",
    "unrecognized_client",
    "slow",
    "reset",
    "wrong_ca",
    "expired_token",
    "oversized",
    "stale_continue",
]
FAULT_KINDS: tuple[FaultKind, ...] = get_args(FaultKind)
# The clusters' Kubernetes API servers (``services/kubernetes``) are service
# "kubernetes". A rule reaches them only when it names that service (a rule without a
# service matches every AWS service), and these kinds exist only there:
# ``slow``: answer after ``seconds`` (a hanging endpoint, with a long one);
# ``reset``: read the request, then drop the connection with a TCP RST;
# ``wrong_ca``: present a certificate from another CA at the TLS handshake;
# ``expired_token``: judge every bearer token past its 15 minutes (401);
# ``oversized``: answer a list of 10 MiB (``OVERSIZED_BYTES``);
# ``stale_continue``: answer a request with a continue token 410 Gone, reason Expired.
# ``throttle`` there is 429 TooManyRequests with ``Retry-After: seconds`` (default 1),
# ``server_error`` 500, ``access_denied`` 403 Forbidden.
KUBERNETES = "kubernetes"
KUBERNETES_ONLY: frozenset[str] = frozenset(
    {"slow", "reset", "wrong_ca", "expired_token", "oversized", "stale_continue"}
)
OVERSIZED_BYTES = 10 * 1024 * 1024
# Conditions on the emulated state under which a rule fires (``FaultRule.when``):
# ``addon_missing``: the add-on the request names (``{addonName}`` in the path) is not
# installed on the cluster. It models an IAM policy that grants ``eks:DescribeAddon`` on
# ``addon/*/vpc-cni/*`` only: for an add-on that does not exist EKS authorises another
# resource, ``arn:aws:eks:REGION:ACCOUNT:/clusters/NAME/addons/vpc-cni`` (the form in
# public AccessDenied reports terraform-aws-modules/terraform-aws-eks#1725 and
# aws/containers-roadmap#1172; AWS does not document it), which such a policy does not
# match, so the caller sees AccessDeniedException instead of ResourceNotFoundException.
FAULT_CONDITIONS: tuple[str, ...] = ("addon_missing",)

# (kind, service) -> (HTTP status, error code, message). Service "*" is the fallback for
# rest-json/json services that follow the common AWS error set.
FAULT_ERRORS: dict[tuple[str, str], tuple[int, str, str]] = {
    # EKS: ThrottlingException 429, ServerException 500, AccessDeniedException 403
    # (botocore eks model error_shapes).
    ("throttle", "eks"): (429, "ThrottlingException", "Rate exceeded"),
    ("server_error", "eks"): (500, "ServerException", "Internal service error"),
    # Security Hub: throttling surfaces as LimitExceededException 429 (its model also has
    # ThrottlingException 429; AWS documents LimitExceededException for API rate limits).
    ("throttle", "securityhub"): (429, "LimitExceededException", "Rate exceeded"),
    ("server_error", "securityhub"): (500, "InternalException", "Internal service error"),
    # EC2 (ec2 protocol): https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html
    ("throttle", "ec2"): (503, "RequestLimitExceeded", "Request limit exceeded."),
    ("server_error", "ec2"): (500, "InternalError", "An internal error has occurred."),
    ("access_denied", "ec2"): (
        403,
        "UnauthorizedOperation",
        "You are not authorized to perform this operation.",
    ),
    ("unrecognized_client", "ec2"): (
        401,
        "AuthFailure",
        "AWS was not able to validate the provided access credentials",
    ),
    # STS (query protocol): common errors.
    ("throttle", "sts"): (400, "Throttling", "Rate exceeded"),
    ("server_error", "sts"): (500, "InternalFailure", "Internal failure"),
    ("access_denied", "sts"): (403, "AccessDenied", "Access denied"),
    ("unrecognized_client", "sts"): (
        403,
        "InvalidClientTokenId",
        "The security token included in the request is invalid.",
    ),
    # CloudFormation (query protocol): AccessDenied 403, as denials read in public reports
    # (e.g. "An error occurred (AccessDenied) when calling the DescribeStacks operation:
    # User: ... is not authorized to perform: cloudformation:DescribeStacks",
    # scopely-devops/skew#81), Throttling 400 (common query errors).
    ("throttle", "cloudformation"): (400, "Throttling", "Rate exceeded"),
    ("server_error", "cloudformation"): (500, "InternalFailure", "Internal failure"),
    ("access_denied", "cloudformation"): (403, "AccessDenied", "Access denied"),
    ("unrecognized_client", "cloudformation"): (
        403,
        "InvalidClientTokenId",
        "The security token included in the request is invalid.",
    ),
    # CloudWatch (json, awsQueryCompatible: the query codes arrive in x-amzn-query-error):
    # AccessDenied 403 as with its query API (public reports: "AccessDenied: User: ... is
    # not authorized to perform: cloudwatch:GetMetricStatistics",
    # RafalWilinski/cloudwatch-public-metrics#6).
    ("throttle", "monitoring"): (400, "Throttling", "Rate exceeded"),
    ("server_error", "monitoring"): (500, "InternalServiceFault", "Internal service error"),
    ("access_denied", "monitoring"): (403, "AccessDenied", "Access denied"),
    ("unrecognized_client", "monitoring"): (
        403,
        "InvalidClientTokenId",
        "The security token included in the request is invalid.",
    ),
    # Common AWS errors for the remaining rest-json/json services (CloudTrail included).
    ("throttle", "*"): (429, "ThrottlingException", "Rate exceeded"),
    ("server_error", "*"): (500, "InternalFailure", "Internal failure"),
    ("access_denied", "*"): (403, "AccessDeniedException", "Access denied"),
    ("unrecognized_client", "*"): (
        403,
        "UnrecognizedClientException",
        "The security token included in the request is invalid.",
    ),
}


def fault_error(kind: str, service: str) -> tuple[int, str, str]:
    """(status, code, message) for a fault kind as ``service`` would send it."""
    return FAULT_ERRORS.get((kind, service)) or FAULT_ERRORS[(kind, "*")]


@dataclass(frozen=True)
class Call:
    """What a request is, for matching rules and counting."""

    service: str
    operation: str
    region: str
    cluster: str | None = None
    addon: str | None = None  # {addonName} of EKS add-on operations
    account: str | None = None  # the caller's account (from the access key)


@dataclass
class FaultRule:
    """Fail matching requests. ``None`` fields match anything.

    ``probability`` (0..1) is drawn from a RNG seeded with ``seed``; ``count`` limits how
    many times the rule fires in total (None = unlimited); ``when`` (one of
    ``FAULT_CONDITIONS``) makes the rule fire only while that condition holds for the call.
    """

    kind: FaultKind
    service: str | None = None
    operation: str | None = None
    region: str | None = None
    cluster: str | None = None
    account: str | None = None
    when: str | None = None
    probability: float = 1.0
    count: int | None = None
    seed: int = 0
    message: str | None = None
    seconds: float | None = None  # kubernetes ``slow`` delay, ``throttle`` Retry-After
    id: int = 0
    fired: int = 0
    _rng: random.Random = field(init=False, repr=False)

    def __post_init__(self) -> None:
        if self.kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {self.kind!r}; expected one of {FAULT_KINDS}")
        if not 0.0 <= self.probability <= 1.0:
            raise ValueError("probability must be within [0, 1]")
        if self.count is not None and self.count < 0:
            raise ValueError("count must be >= 0")
        if self.when is not None and self.when not in FAULT_CONDITIONS:
            raise ValueError(f"unknown condition {self.when!r}; expected one of {FAULT_CONDITIONS}")
        if self.kind in KUBERNETES_ONLY and self.service != KUBERNETES:
            raise ValueError(f"fault kind {self.kind!r} needs service {KUBERNETES!r}")
        if self.kind == "unrecognized_client" and self.service == KUBERNETES:
            raise ValueError("the Kubernetes API has no unrecognized_client; use expired_token")
        if self.seconds is not None and self.seconds < 0:
            raise ValueError("seconds must be >= 0")
        self._rng = random.Random(self.seed)

    def matches(self, call: Call) -> bool:
        if self.service is None and call.service == KUBERNETES:
            return False  # a rule reaches the Kubernetes API only by naming it
        return (
            (self.service is None or self.service == call.service)
            and (self.operation is None or self.operation == call.operation)
            and (self.region is None or self.region == call.region)
            and (self.cluster is None or self.cluster == call.cluster)
            and (self.account is None or self.account == call.account)
        )

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "service": self.service,
            "operation": self.operation,
            "region": self.region,
            "cluster": self.cluster,
            "account": self.account,
            "when": self.when,
            "probability": self.probability,
            "count": self.count,
            "seed": self.seed,
            "message": self.message,
            "seconds": self.seconds,
            "fired": self.fired,
        }


@dataclass
class LatencyModel:
    """Simulated service time: ``base_ms`` (or ``service_ms[service]``) + ``region_ms[region]``."""

    base_ms: float = 0.0
    region_ms: dict[str, float] = field(default_factory=dict)
    service_ms: dict[str, float] = field(default_factory=dict)

    def delay_seconds(self, call: Call) -> float:
        base = self.service_ms.get(call.service, self.base_ms)
        return max(0.0, base + self.region_ms.get(call.region, 0.0)) / 1000.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "base_ms": self.base_ms,
            "region_ms": dict(self.region_ms),
            "service_ms": dict(self.service_ms),
        }


class FaultInjector:
    """Holds fault rules and the latency model; thread-safe."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._ids = itertools.count(1)
        self.latency = LatencyModel()

    def reset(self) -> None:
        with self._lock:
            self._rules = []
            self.latency = LatencyModel()

    def add(self, rule: FaultRule) -> FaultRule:
        with self._lock:
            rule.id = next(self._ids)
            self._rules.append(rule)
        return rule

    def remove(self, rule_id: int) -> bool:
        with self._lock:
            before = len(self._rules)
            self._rules = [r for r in self._rules if r.id != rule_id]
            return len(self._rules) != before

    def clear(self) -> None:
        with self._lock:
            self._rules = []

    def rules(self) -> list[dict[str, Any]]:
        with self._lock:
            return [r.to_dict() for r in self._rules]

    def pick(
        self,
        call: Call,
        holds: Callable[[str], bool] | None = None,
        kinds: frozenset[str] | None = None,
    ) -> FaultRule | None:
        """The first rule (in insertion order) that matches and fires for this call.

        ``holds(condition)`` answers a rule's ``when`` from the emulated state; without it
        conditional rules never fire. ``kinds`` limits the rules considered (the
        Kubernetes API asks for ``wrong_ca`` at the handshake, the others per request).
        """
        if not self._rules:  # fast path, no lock
            return None
        with self._lock:
            for rule in self._rules:
                if kinds is not None and rule.kind not in kinds:
                    continue
                if not rule.matches(call):
                    continue
                if rule.when is not None and (holds is None or not holds(rule.when)):
                    continue
                if rule.count is not None and rule.fired >= rule.count:
                    continue
                if rule.probability < 1.0 and rule._rng.random() >= rule.probability:
                    continue
                rule.fired += 1
                return rule
        return None

    def sleep(self, call: Call) -> None:
        """Apply the latency model in the calling (request) thread."""
        delay = self.latency.delay_seconds(call)
        if delay > 0:
            time.sleep(delay)


class CallRecorder:
    """Counts calls per (service, operation, region, cluster, status); tracks concurrency.

    A call is counted in the window (between resets) in which it arrived: one still being
    answered when the counters are reset (a slow fault of an earlier test, a hung
    connection) is not counted in the next window, whose counts must be what was sent
    after the reset."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: Counter[tuple[str, str, str, str | None, int]] = Counter()
        self._in_flight = 0
        self._peak = 0
        self._window = 0

    def enter(self) -> int:
        """Start a call; the returned window goes back to `leave`."""
        with self._lock:
            self._in_flight += 1
            self._peak = max(self._peak, self._in_flight)
            return self._window

    def leave(self, call: Call, status: int, window: int) -> None:
        with self._lock:
            self._in_flight -= 1
            if window == self._window:
                key = (call.service, call.operation, call.region, call.cluster, status)
                self._counts[key] += 1

    def reset(self) -> None:
        with self._lock:
            self._counts.clear()
            self._peak = self._in_flight
            self._window += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            calls = [
                {
                    "service": s,
                    "operation": o,
                    "region": r,
                    "cluster": c,
                    "status": st,
                    "count": n,
                }
                for (s, o, r, c, st), n in sorted(
                    self._counts.items(), key=lambda kv: tuple(str(x) for x in kv[0])
                )
            ]
            return {
                "calls": calls,
                "total": sum(self._counts.values()),
                "in_flight": self._in_flight,
                "peak_concurrency": self._peak,
            }
