"""One synthesis of the real app per test session, shared by the CDK test modules.

Why: synthesis (bundling, both validation plugins) takes seconds on a loaded machine;
every module asserts on the same template, exactly as ``make synth`` writes it.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from aws_cdk.assertions import Template

from app import STACK_NAME, build_app
from tests.unit.infra.cfn import Json


@pytest.fixture(scope="session")
def synth(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Json]:
    """Synthesize the real app (with the cdk-nag plugin) once; yield outdir and template."""
    outdir = tmp_path_factory.mktemp("cdk.out")
    app = build_app(outdir=str(outdir))
    # The nag plugin runs here: an unacknowledged finding raises during synth.
    assembly = app.synth()
    template: Json = assembly.get_stack_by_name(STACK_NAME).template
    return outdir, template


@pytest.fixture(scope="session")
def template_json(synth: tuple[Path, Json]) -> Json:
    return synth[1]


@pytest.fixture(scope="session")
def template(template_json: Json) -> Template:
    return Template.from_json(template_json)
