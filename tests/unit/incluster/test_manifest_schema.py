"""The default-deny manifest the FAILED coverage finding gives is a valid NetworkPolicy under
the published Kubernetes schema. Needs kubernetes-validate, a development package, so the
Lambda-runtime run (`make test-runtime`) leaves this file out (Makefile RUNTIME_IGNORED)."""

from __future__ import annotations

import kubernetes_validate
import yaml

from eks_netpol_auditor.incluster.verdict import DEFAULT_DENY_MANIFEST


def test_the_remediation_manifest_is_a_valid_default_deny_policy() -> None:
    manifest = yaml.safe_load(DEFAULT_DENY_MANIFEST)
    kubernetes_validate.validate(manifest, "1.31", strict=True)
    assert manifest["spec"] == {"podSelector": {}, "policyTypes": ["Ingress", "Egress"]}
