"""Read the ``context`` block of ``cdk.json``.

Why: the CDK CLI passes ``cdk.json`` context (the feature flags) to the app,
but ``python app.py`` (what ``make synth`` and the tests run) does not. Loading
it explicitly makes the CLI, ``make synth`` and the tests synthesize the same
template. Context given by the CLI still wins, because ``cdk.App`` applies
``CDK_CONTEXT_JSON`` over the constructor's context.
"""

from __future__ import annotations

import json
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
