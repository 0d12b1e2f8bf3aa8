"""The sandbox control API: JSON over HTTP under ``/_sandbox/``.

Why HTTP rather than Python calls: the benchmark and ``make demo`` run the sandbox in
another process; tests in the same process use the same API through ``SandboxClient`` so
there is exactly one way to drive it.

Endpoints (JSON bodies; errors are ``{"error": "..."}`` with 400/404/501)::

    GET    /_sandbox/health
    POST   /_sandbox/reset                               everything back to defaults
    GET    /_sandbox/clusters[?region=R]                 cluster states (+ add-ons)
    POST   /_sandbox/clusters                            {region, name, status, version, ...}
    POST   /_sandbox/clusters:batch                      {clusters: [{...}, ...]}
    GET    /_sandbox/clusters/R/NAME
    PATCH  /_sandbox/clusters/R/NAME                     {status?, version?, tags?, ...}
    DELETE /_sandbox/clusters/R/NAME
    PUT    /_sandbox/clusters/R/NAME/addon               {version, status, ...}
    DELETE /_sandbox/clusters/R/NAME/addon
    GET    /_sandbox/updates[?region=R&cluster=NAME]      accepted UpdateAddon calls
    POST   /_sandbox/settle                              {region?, cluster?, outcome?}
    GET|PUT /_sandbox/settings                 {auto_settle_seconds, enforce_enabled_regions}
    GET|PUT /_sandbox/regions                            {enabled: [...]}
    GET|POST|DELETE /_sandbox/faults, DELETE /_sandbox/faults/ID
    GET|PUT|DELETE /_sandbox/latency                     {base_ms, region_ms, service_ms}
    GET|DELETE /_sandbox/calls                           counts + peak concurrency / reset
    PUT    /_sandbox/securityhub/R[?account=A]           {enabled: bool} (all accounts without A)
    GET    /_sandbox/securityhub/R/findings[?account=A]
    GET|PUT|DELETE /_sandbox/securityhub:organization    {administrator, members,
                                                          aggregation_region, linked_regions}
    GET|DELETE /_sandbox/securityhub:ingestion            finding ingestion events / reset
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs

from sandbox.eks import AddonSpec
from sandbox.faults import FaultRule, LatencyModel

if TYPE_CHECKING:
    from sandbox.server import SandboxApp

JsonHandler = Callable[[dict[str, str], dict[str, Any], dict[str, str]], tuple[int, Any]]


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _opt_str(body: dict[str, Any], key: str) -> str | None:
    """An optional string field; numbers are accepted as their text (ids, versions)."""
    value = body.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ControlError(400, f"{key} must be a string")
    return str(value)


def _str(body: dict[str, Any], key: str, default: str) -> str:
    value = _opt_str(body, key)
    return default if value is None else value


def _bool(body: dict[str, Any], key: str, default: bool) -> bool:
    """A JSON boolean; the string "false" is refused rather than read as true."""
    value = body.get(key, default)
    if not isinstance(value, bool):
        raise ControlError(400, f"{key} must be true or false")
    return value


def _number(body: dict[str, Any], key: str, default: float | None) -> float | None:
    value = body.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ControlError(400, f"{key} must be a number")
    return float(value)


def _int(body: dict[str, Any], key: str, default: int | None) -> int | None:
    value = body.get(key, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise ControlError(400, f"{key} must be an integer")
    return value


def _mapping(body: dict[str, Any], key: str) -> dict[str, Any]:
    value = body.get(key)
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ControlError(400, f"{key} must be an object")
    return value


def _str_map(body: dict[str, Any], key: str) -> dict[str, str]:
    """A {string: string} object (tags); scalar values are taken as their text."""
    out = {}
    for k, v in _mapping(body, key).items():
        if isinstance(v, dict | list) or v is None:
            raise ControlError(400, f"{key}.{k} must be a string")
        out[str(k)] = str(v)
    return out


def _num_map(body: dict[str, Any], key: str) -> dict[str, float]:
    return {str(k): _number({k: v}, str(k), None) or 0.0 for k, v in _mapping(body, key).items()}


def _addon_spec(body: dict[str, Any]) -> AddonSpec:
    issues = body.get("health_issues") or []
    if not isinstance(issues, list) or not all(isinstance(i, dict) for i in issues):
        raise ControlError(400, "health_issues must be a list of objects")
    return AddonSpec(
        version=_str(body, "version", AddonSpec.version),
        status=_str(body, "status", AddonSpec.status),
        configuration_values=_opt_str(body, "configuration_values"),
        health_issues=[dict(i) for i in issues],
        service_account_role_arn=_opt_str(body, "service_account_role_arn"),
        tags=_str_map(body, "tags"),
    )


class ControlApi:
    """Dispatches ``/_sandbox/...`` requests to the app's state objects."""

    PREFIX = "/_sandbox"

    def __init__(self, app: SandboxApp) -> None:
        self.app = app
        seg = r"([^/]+)"
        table: list[tuple[str, str, JsonHandler]] = [
            ("GET", "/health", self._health),
            ("POST", "/reset", self._reset),
            ("GET", "/clusters", self._list_clusters),
            ("POST", "/clusters", self._add_cluster),
            ("POST", "/clusters:batch", self._add_clusters),
            ("GET", f"/clusters/{seg}/{seg}", self._get_cluster),
            ("PATCH", f"/clusters/{seg}/{seg}", self._patch_cluster),
            ("DELETE", f"/clusters/{seg}/{seg}", self._delete_cluster),
            ("PUT", f"/clusters/{seg}/{seg}/addon", self._put_addon),
            ("DELETE", f"/clusters/{seg}/{seg}/addon", self._delete_addon),
            ("GET", "/updates", self._updates),
            ("POST", "/settle", self._settle),
            ("GET", "/settings", self._get_settings),
            ("PUT", "/settings", self._put_settings),
            ("GET", "/regions", self._get_regions),
            ("PUT", "/regions", self._put_regions),
            ("GET", "/faults", self._get_faults),
            ("POST", "/faults", self._add_fault),
            ("DELETE", "/faults", self._clear_faults),
            ("DELETE", f"/faults/{seg}", self._delete_fault),
            ("GET", "/latency", self._get_latency),
            ("PUT", "/latency", self._put_latency),
            ("DELETE", "/latency", self._clear_latency),
            ("GET", "/calls", self._get_calls),
            ("DELETE", "/calls", self._reset_calls),
            ("PUT", f"/securityhub/{seg}", self._put_securityhub),
            ("GET", f"/securityhub/{seg}/findings", self._findings),
            ("GET", "/securityhub:ingestion", self._ingestion),
            ("GET", "/securityhub:organization", self._get_organization),
            ("PUT", "/securityhub:organization", self._put_organization),
            ("DELETE", "/securityhub:organization", self._delete_organization),
            ("DELETE", "/securityhub:ingestion", self._reset_ingestion),
        ]
        self._routes = [
            (method, re.compile(f"^{re.escape(self.PREFIX)}{pattern}$"), handler)
            for method, pattern, handler in table
        ]

    def handle(self, method: str, path: str, query_string: str, raw: bytes) -> tuple[int, Any]:
        try:
            body = json.loads(raw) if raw.strip() else {}
        except ValueError as exc:  # JSONDecodeError, or UnicodeDecodeError for non-UTF-8
            return 400, {"error": f"invalid JSON body: {exc}"}
        if not isinstance(body, dict):
            return 400, {"error": "JSON body must be an object"}
        query = {k: v[0] for k, v in parse_qs(query_string).items()}
        path_matched = False
        for route_method, regex, handler in self._routes:
            match = regex.match(path)
            if not match:
                continue
            path_matched = True
            if route_method != method:
                continue
            args = dict(enumerate(match.groups()))
            try:
                return handler({str(k): v for k, v in args.items()}, body, query)
            except ControlError as exc:
                return exc.status, {"error": str(exc)}
            except KeyError as exc:
                return 404, {"error": str(exc.args[0]) if exc.args else "not found"}
            except (TypeError, ValueError) as exc:
                return 400, {"error": str(exc)}
        if path_matched:
            return 405, {"error": f"method {method} not allowed on {path}"}
        return 404, {"error": f"no control endpoint {method} {path}"}

    # ------------------------------------------------------------------ general
    def _health(
        self, _a: dict[str, str], _b: dict[str, Any], _q: dict[str, str]
    ) -> tuple[int, Any]:
        return 200, {
            "ok": True,
            "account": self.app.account,
            "securityhub": self.app.securityhub() is not None,
        }

    def _reset(self, _a: dict[str, str], _b: dict[str, Any], _q: dict[str, str]) -> tuple[int, Any]:
        self.app.reset()
        return 200, {"ok": True}

    # ------------------------------------------------------------------ clusters
    def _list_clusters(
        self, _a: dict[str, str], _b: dict[str, Any], q: dict[str, str]
    ) -> tuple[int, Any]:
        return 200, {"clusters": self.app.eks.list_state(q.get("region"))}

    def _add_clusters(
        self, a: dict[str, str], b: dict[str, Any], q: dict[str, str]
    ) -> tuple[int, Any]:
        specs = b.get("clusters")
        if not isinstance(specs, list) or not all(isinstance(c, dict) for c in specs):
            raise ControlError(400, "clusters must be a list of cluster objects")
        for spec in specs:
            self._add_cluster(a, spec, q)
        return 201, {"created": len(specs)}

    def _add_cluster(
        self, _a: dict[str, str], b: dict[str, Any], _q: dict[str, str]
    ) -> tuple[int, Any]:
        for key in ("region", "name"):
            if not b.get(key):
                raise ControlError(400, f"{key} is required")
        addon = b.get("addon")
        if addon is not None and not isinstance(addon, dict):
            raise ControlError(400, "addon must be an object or null")
        state = self.app.eks.put_cluster(
            _str(b, "region", ""),
            _str(b, "name", ""),
            status=_str(b, "status", "ACTIVE"),
            version=_str(b, "version", "1.31"),
            platform_version=_opt_str(b, "platform_version"),
            tags=_str_map(b, "tags"),
            auto_mode=_bool(b, "auto_mode", False),
            omit_compute_config=_bool(b, "omit_compute_config", False),
            connector=_bool(b, "connector", False),
            addon=None if addon is None else _addon_spec(addon),
        )
        return 201, state

    def _get_cluster(
        self, a: dict[str, str], _b: dict[str, Any], _q: dict[str, str]
    ) -> tuple[int, Any]:
        state = self.app.eks.cluster_state(a["0"], a["1"])
        if state is None:
            raise KeyError(f"no cluster {a['1']!r} in {a['0']}")
        return 200, state

    def _patch_cluster(
        self, a: dict[str, str], b: dict[str, Any], _q: dict[str, str]
    ) -> tuple[int, Any]:
        changes: dict[str, Any] = {}
        for key in b:
            if key in ("tags",):
                changes[key] = _str_map(b, key)
            elif key in ("auto_mode", "omit_compute_config"):
                changes[key] = _bool(b, key, False)
            else:
                changes[key] = _str(b, key, "")  # unknown keys are refused by update_cluster
        return 200, self.app.eks.update_cluster(a["0"], a["1"], changes)

    def _delete_cluster(
        self, a: dict[str, str], _b: dict[str, Any], _q: dict[str, str]
    ) -> tuple[int, Any]:
        if not self.app.eks.delete_cluster(a["0"], a["1"]):
            raise KeyError(f"no cluster {a['1']!r} in {a['0']}")
        return 200, {"deleted": True}

    def _put_addon(
        self, a: dict[str, str], b: dict[str, Any], _q: dict[str, str]
    ) -> tuple[int, Any]:
        return 200, self.app.eks.set_addon(a["0"], a["1"], _addon_spec(b))

    def _delete_addon(
        self, a: dict[str, str], _b: dict[str, Any], _q: dict[str, str]
    ) -> tuple[int, Any]:
        return 200, self.app.eks.set_addon(a["0"], a["1"], None)

    def _updates(
        self, _a: dict[str, str], _b: dict[str, Any], q: dict[str, str]
    ) -> tuple[int, Any]:
        return 200, {"updates": self.app.eks.updates(q.get("region"), q.get("cluster"))}

    def _settle(self, _a: dict[str, str], b: dict[str, Any], _q: dict[str, str]) -> tuple[int, Any]:
        settled = self.app.eks.settle(
            _opt_str(b, "region"), _opt_str(b, "cluster"), _str(b, "outcome", "Successful")
        )
        return 200, {"settled": settled}

    def _get_settings(
        self, _a: dict[str, str], _b: dict[str, Any], _q: dict[str, str]
    ) -> tuple[int, Any]:
        return 200, {
            "auto_settle_seconds": self.app.eks.auto_settle_seconds,
            "enforce_enabled_regions": self.app.enforce_enabled_regions,
        }

    def _put_settings(
        self, a: dict[str, str], b: dict[str, Any], q: dict[str, str]
    ) -> tuple[int, Any]:
        if "auto_settle_seconds" in b:
            value = _number(b, "auto_settle_seconds", None)
            if value is not None and value < 0:
                raise ControlError(400, "auto_settle_seconds must be >= 0 or null")
            self.app.eks.auto_settle_seconds = value
        if "enforce_enabled_regions" in b:
            self.app.enforce_enabled_regions = _bool(b, "enforce_enabled_regions", True)
        return self._get_settings(a, b, q)

    # ------------------------------------------------------------------ regions
    def _get_regions(
        self, _a: dict[str, str], _b: dict[str, Any], _q: dict[str, str]
    ) -> tuple[int, Any]:
        return 200, {"enabled": self.app.regions.enabled()}

    def _put_regions(
        self, a: dict[str, str], b: dict[str, Any], q: dict[str, str]
    ) -> tuple[int, Any]:
        enabled = b.get("enabled")
        if not isinstance(enabled, list) or not all(isinstance(r, str) for r in enabled):
            raise ControlError(400, "enabled must be a list of region names")
        self.app.regions.set_enabled(enabled)
        return self._get_regions(a, b, q)

    # ------------------------------------------------------------------ faults/latency
    def _get_faults(
        self, _a: dict[str, str], _b: dict[str, Any], _q: dict[str, str]
    ) -> tuple[int, Any]:
        return 200, {"faults": self.app.faults.rules()}

    def _add_fault(
        self, _a: dict[str, str], b: dict[str, Any], _q: dict[str, str]
    ) -> tuple[int, Any]:
        allowed = {
            "kind",
            "service",
            "operation",
            "region",
            "cluster",
            "account",
            "when",
            "probability",
            "count",
            "seed",
            "message",
        }
        unknown = set(b) - allowed
        if unknown:
            raise ControlError(400, f"unknown fault fields {sorted(unknown)}")
        rule = FaultRule(
            kind=_str(b, "kind", ""),  # type: ignore[arg-type]  # FaultRule validates it
            service=_opt_str(b, "service"),
            operation=_opt_str(b, "operation"),
            region=_opt_str(b, "region"),
            cluster=_opt_str(b, "cluster"),
            account=_opt_str(b, "account"),
            when=_opt_str(b, "when"),
            probability=_number(b, "probability", 1.0) or 0.0,
            count=_int(b, "count", None),
            seed=_int(b, "seed", 0) or 0,
            message=_opt_str(b, "message"),
        )
        return 201, self.app.faults.add(rule).to_dict()

    def _clear_faults(
        self, _a: dict[str, str], _b: dict[str, Any], _q: dict[str, str]
    ) -> tuple[int, Any]:
        self.app.faults.clear()
        return 200, {"faults": []}

    def _delete_fault(
        self, a: dict[str, str], _b: dict[str, Any], _q: dict[str, str]
    ) -> tuple[int, Any]:
        if not self.app.faults.remove(int(a["0"])):
            raise KeyError(f"no fault rule {a['0']}")
        return 200, {"deleted": True}

    def _get_latency(
        self, _a: dict[str, str], _b: dict[str, Any], _q: dict[str, str]
    ) -> tuple[int, Any]:
        return 200, self.app.faults.latency.to_dict()

    def _put_latency(
        self, a: dict[str, str], b: dict[str, Any], q: dict[str, str]
    ) -> tuple[int, Any]:
        self.app.faults.latency = LatencyModel(
            base_ms=_number(b, "base_ms", 0.0) or 0.0,
            region_ms=_num_map(b, "region_ms"),
            service_ms=_num_map(b, "service_ms"),
        )
        return self._get_latency(a, b, q)

    def _clear_latency(
        self, a: dict[str, str], b: dict[str, Any], q: dict[str, str]
    ) -> tuple[int, Any]:
        self.app.faults.latency = LatencyModel()
        return self._get_latency(a, b, q)

    def _get_calls(
        self, _a: dict[str, str], _b: dict[str, Any], _q: dict[str, str]
    ) -> tuple[int, Any]:
        return 200, self.app.recorder.snapshot()

    def _reset_calls(
        self, _a: dict[str, str], _b: dict[str, Any], _q: dict[str, str]
    ) -> tuple[int, Any]:
        self.app.recorder.reset()
        return 200, self.app.recorder.snapshot()

    # ------------------------------------------------------------------ securityhub
    def _require_securityhub(self) -> Any:
        emulator = self.app.securityhub()
        if emulator is None:
            raise ControlError(
                501, "Security Hub emulator (sandbox/securityhub.py) is not available"
            )
        return emulator

    def _put_securityhub(
        self, a: dict[str, str], b: dict[str, Any], q: dict[str, str]
    ) -> tuple[int, Any]:
        if not isinstance(b.get("enabled"), bool):
            raise ControlError(400, "enabled must be true or false")
        account = _opt_str(b, "account") or q.get("account")
        self._require_securityhub().set_enabled(a["0"], b["enabled"], account=account)
        return 200, {"region": a["0"], "enabled": b["enabled"]}

    def _findings(
        self, a: dict[str, str], _b: dict[str, Any], q: dict[str, str]
    ) -> tuple[int, Any]:
        found = self._require_securityhub().findings(a["0"], account=q.get("account"))
        return 200, {"findings": found}

    def _ingestion(
        self, _a: dict[str, str], _b: dict[str, Any], _q: dict[str, str]
    ) -> tuple[int, Any]:
        return 200, {"ingestion": self._require_securityhub().ingestion_events()}

    def _reset_ingestion(
        self, a: dict[str, str], b: dict[str, Any], q: dict[str, str]
    ) -> tuple[int, Any]:
        self._require_securityhub().reset_ingestion_events()
        return self._ingestion(a, b, q)

    def _get_organization(
        self, _a: dict[str, str], _b: dict[str, Any], _q: dict[str, str]
    ) -> tuple[int, Any]:
        return 200, self._require_securityhub().organization()

    def _put_organization(
        self, _a: dict[str, str], b: dict[str, Any], _q: dict[str, str]
    ) -> tuple[int, Any]:
        members, linked = b.get("members") or [], b.get("linked_regions") or []
        for name, value in (("members", members), ("linked_regions", linked)):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ControlError(400, f"{name} must be a list of strings")
        return 200, self._require_securityhub().set_organization(
            _opt_str(b, "administrator"), members, _opt_str(b, "aggregation_region"), linked
        )

    def _delete_organization(
        self, _a: dict[str, str], _b: dict[str, Any], _q: dict[str, str]
    ) -> tuple[int, Any]:
        return 200, self._require_securityhub().set_organization(None)
