"""The sandbox's EKS token check keeps its parse and signature results per token (a
cluster read sends one token with each of its requests); what depends on the moment or
on the cluster asked must still be judged on every request."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from sandbox.accounts import Accounts
from sandbox.services.kubernetes.authn import TokenRejected, verify_token
from tests.integration.sandbox.kube_support import DEFAULT_PRINCIPAL, eks_token


def test_a_token_accepted_once_is_judged_again_on_each_request() -> None:
    accounts, token, now = Accounts(), eks_token("prod"), datetime.now(UTC)
    caller = verify_token(token, "prod", accounts, now)
    assert caller.identity.arn == DEFAULT_PRINCIPAL
    assert verify_token(token, "prod", accounts, now) == caller
    with pytest.raises(TokenRejected, match="SignatureDoesNotMatch"):
        verify_token(token, "other", accounts, now)
    with pytest.raises(TokenRejected, match="15 minute expiration"):
        verify_token(token, "prod", accounts, now + timedelta(minutes=16))
    with pytest.raises(TokenRejected, match="15 minute expiration"):
        verify_token(token, "prod", accounts, now, expired=True)
    with pytest.raises(TokenRejected, match="not yet current"):
        verify_token(token, "prod", accounts, now - timedelta(minutes=16))
    assert verify_token(token, "prod", accounts, now) == caller


def test_a_rejected_token_stays_rejected() -> None:
    accounts, now = Accounts(), datetime.now(UTC)
    token = eks_token("prod", sign_cluster_header=False)
    for _ in range(2):
        with pytest.raises(TokenRejected, match="did not sign the x-k8s-aws-id"):
            verify_token(token, "prod", accounts, now)
