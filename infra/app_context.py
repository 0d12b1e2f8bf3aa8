"""Read the ``context`` block of ``cdk.json``.

Why: the CDK CLI passes ``cdk.json`` context (the feature flags) to the app,
but ``python app.py`` (what ``make synth`` and the tests run) does not. Loading
it explicitly makes the CLI, ``make synth`` and the tests synthesize the same
template. Context given by the CLI still wins, because ``cdk.App`` applies
``CDK_CONTEXT_JSON`` over the constructor's context.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

CDK_JSON = Path(__file__).resolve().parent.parent / "cdk.json"


def load_cdk_json_context(path: Path = CDK_JSON) -> dict[str, Any]:
    """The ``context`` mapping of cdk.json (empty if the file has none)."""
    data = json.loads(path.read_text(encoding="utf-8"))
    context = data.get("context", {})
    if not isinstance(context, dict):
        msg = f"{path}: 'context' must be an object"
        raise TypeError(msg)
    return context


FORWARDER_REGIONS = "forwarderRegions"
HOME_REGION = "homeRegion"
_REGION = re.compile(r"[a-z]{2}(-[a-z]+)+-[0-9]+")


class AppContextError(ValueError):
    """Context given to the CDK app that cannot be used; the message is one line."""


def forwarder_regions(value: object, home_region: str | None) -> tuple[str, ...]:
    """Regions that get an event forwarder: ``-c forwarderRegions=eu-west-1,us-west-2``.

    The home region is left out (the auditor stack forwards its own region's events).
    A list from cdk.json is accepted as well as the CLI's comma-separated string.
    """
    if value is None or value == "":
        return ()
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list | tuple):
        raise AppContextError(f"{FORWARDER_REGIONS} must be a comma-separated list of regions")
    regions = [str(item).strip() for item in items]
    bad = [r for r in regions if not _REGION.fullmatch(r)]
    if bad:
        raise AppContextError(f"{FORWARDER_REGIONS}: not a region name: {', '.join(bad)}")
    if not home_region:
        raise AppContextError(
            f"{FORWARDER_REGIONS} needs the home region: set AWS_REGION (or the profile's "
            f"region) or -c {HOME_REGION}=REGION"
        )
    return tuple(dict.fromkeys(r for r in regions if r != home_region))
