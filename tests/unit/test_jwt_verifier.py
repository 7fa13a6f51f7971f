"""JWTVerifier on its own: algorithms, keys, and registered claims."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from pathlib import Path
from typing import Any

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, OctKey, RSAKey

from core.config import JWTSettings
from core.jwt_bearer import JWTVerifier, issue_token, user_id_from_claims
from core.problems import Unauthorized

SECRET = "unit-test-secret-0123456789-0123456789-abcdef"


@pytest.fixture(scope="module")
def rsa_key() -> RSAKey:
    return RSAKey.generate_key(2048, parameters={"kid": "k1"})


def b64(data: dict[str, Any]) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def claims(**extra: Any) -> dict[str, Any]:
    return {"sub": "u1", "exp": int(time.time()) + 300, **extra}


def rejects(verifier: JWTVerifier, token: str) -> str:
    with pytest.raises(Unauthorized) as caught:
        verifier.verify(token)
    return str(caught.value.detail)


class TestHS256:
    verifier = JWTVerifier(JWTSettings(secret=SECRET))

    def test_accepts_a_token_signed_with_the_secret(self) -> None:
        token = jwt.encode({"alg": "HS256"}, claims(), OctKey.import_key(SECRET))

        assert self.verifier.verify(token)["sub"] == "u1"

    def test_refuses_an_rs256_token(self, rsa_key: RSAKey) -> None:
        token = jwt.encode({"alg": "RS256"}, claims(), rsa_key)

        assert rejects(self.verifier, token) == "The token is not valid."

    def test_refuses_a_future_nbf(self) -> None:
        token = jwt.encode({"alg": "HS256"}, claims(nbf=int(time.time()) + 3600), OctKey.import_key(SECRET))

        rejects(self.verifier, token)


class TestRS256:
    def test_verifies_with_a_pem_public_key(self, rsa_key: RSAKey, tmp_path: Path) -> None:
        pem = tmp_path / "public.pem"
        pem.write_bytes(rsa_key.as_pem(private=False))
        verifier = JWTVerifier(JWTSettings(algorithm="RS256", public_key_file=pem))

        assert verifier.verify(jwt.encode({"alg": "RS256"}, claims(), rsa_key))["sub"] == "u1"

    def test_verifies_with_a_jwks_file_by_kid(self, rsa_key: RSAKey, tmp_path: Path) -> None:
        jwks = tmp_path / "jwks.json"
        other = RSAKey.generate_key(2048, parameters={"kid": "k2"})
        jwks.write_text(json.dumps(KeySet([other, rsa_key]).as_dict(private=False)))
        verifier = JWTVerifier(JWTSettings(algorithm="RS256", jwks_file=jwks))

        assert verifier.verify(jwt.encode({"alg": "RS256", "kid": "k1"}, claims(), rsa_key))["sub"] == "u1"

    def test_refuses_hs256_signed_with_the_public_key(self, rsa_key: RSAKey, tmp_path: Path) -> None:
        pem = tmp_path / "public.pem"
        pem.write_bytes(rsa_key.as_pem(private=False))
        verifier = JWTVerifier(JWTSettings(algorithm="RS256", public_key_file=pem))
        signing_input = f"{b64({'alg': 'HS256', 'typ': 'JWT'})}.{b64(claims())}"
        signature = hmac.new(pem.read_bytes(), signing_input.encode(), hashlib.sha256).digest()
        confused = f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"

        rejects(verifier, confused)

    def test_mints_demo_tokens_with_a_private_key(self, rsa_key: RSAKey, tmp_path: Path) -> None:
        private, public = tmp_path / "private.pem", tmp_path / "public.pem"
        private.write_bytes(rsa_key.as_pem(private=True))
        public.write_bytes(rsa_key.as_pem(private=False))
        settings = JWTSettings(algorithm="RS256", public_key_file=public, private_key_file=private)

        assert JWTVerifier(settings).verify(issue_token(settings, {"sub": "demo"}))["sub"] == "demo"


class TestIssuerAndAudience:
    settings = JWTSettings(secret=SECRET, issuer="https://idp.example", audience="order-accept")
    verifier = JWTVerifier(settings)

    def sign(self, **extra: Any) -> str:
        return jwt.encode({"alg": "HS256"}, claims(**extra), OctKey.import_key(SECRET))

    def test_accepts_the_configured_issuer_and_audience(self) -> None:
        assert self.verifier.verify(self.sign(iss="https://idp.example", aud="order-accept"))

    def test_accepts_the_audience_in_a_list(self) -> None:
        assert self.verifier.verify(self.sign(iss="https://idp.example", aud=["billing", "order-accept"]))

    @pytest.mark.parametrize(
        "extra",
        [
            pytest.param({"aud": "order-accept"}, id="no-iss"),
            pytest.param({"iss": "https://idp.example"}, id="no-aud"),
            pytest.param({"iss": "https://evil.example", "aud": "order-accept"}, id="wrong-iss"),
            pytest.param({"iss": "https://idp.example", "aud": "billing"}, id="wrong-aud"),
        ],
    )
    def test_refuses_others(self, extra: dict[str, Any]) -> None:
        rejects(self.verifier, self.sign(**extra))

    def test_issue_token_sets_them(self) -> None:
        token = issue_token(self.settings, {"sub": "demo"})

        assert self.verifier.verify(token)["iss"] == "https://idp.example"


class TestConfiguration:
    @pytest.mark.parametrize(
        "settings",
        [
            pytest.param(JWTSettings(algorithm="none", secret=SECRET), id="alg-none"),
            pytest.param(JWTSettings(algorithm="HS256", secret=None), id="hs256-without-secret"),
            pytest.param(JWTSettings(algorithm="RS256"), id="rs256-without-key"),
        ],
    )
    def test_refuses_unusable_settings(self, settings: JWTSettings) -> None:
        with pytest.raises(ValueError, match=r"JWT algorithm|needs a"):
            JWTVerifier(settings)


@pytest.mark.parametrize(
    ("token_claims", "expected"),
    [
        ({"sub": "a"}, "a"),
        ({"http://schemas.xmlsoap.org/ws/2005/05/identity/claims/nameidentifier": "b"}, "b"),
        ({"nameidentifier": "c"}, "c"),
        ({"sub": "  "}, None),
        ({"sub": 42}, None),
        ({}, None),
    ],
)
def test_user_id_comes_from_sub_or_nameidentifier(token_claims: dict[str, Any], expected: str | None) -> None:
    assert user_id_from_claims(token_claims) == expected


class TestRememberedTokens:
    def test_a_remembered_token_still_expires(self) -> None:
        clock = [int(time.time())]
        verifier = JWTVerifier(JWTSettings(secret=SECRET, leeway_seconds=0), now=lambda: clock[0])
        token = jwt.encode({"alg": "HS256"}, {"sub": "u1", "exp": clock[0] + 60}, OctKey.import_key(SECRET))

        assert verifier.verify(token)["sub"] == "u1"
        assert verifier.verify(token)["sub"] == "u1"
        clock[0] += 61

        assert rejects(verifier, token) == "The token has expired."
        assert rejects(verifier, token) == "The token has expired."

    def test_a_refused_token_is_not_remembered(self) -> None:
        verifier = JWTVerifier(JWTSettings(secret=SECRET))
        forged = jwt.encode({"alg": "HS256"}, claims(), OctKey.import_key("another-secret-" * 4))

        rejects(verifier, forged)
        rejects(verifier, forged)


def test_the_cache_holds_when_threads_race_on_an_expiring_token() -> None:
    """Pool threads verify at once: a token expiring under them is refused by each, never a KeyError."""
    import sys
    import threading

    clock = [1_000_000]
    verifier = JWTVerifier(JWTSettings(secret=SECRET, leeway_seconds=0), now=lambda: clock[0])
    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        for _ in range(50):
            token = jwt.encode({"alg": "HS256"}, {"sub": "u", "exp": clock[0] + 1}, OctKey.import_key(SECRET))
            verifier.verify(token)
            clock[0] += 5
            outcomes: list[str] = []

            def check(token: str = token, outcomes: list[str] = outcomes) -> None:
                try:
                    verifier.verify(token)
                    outcomes.append("accepted")
                except Exception as exc:
                    outcomes.append(type(exc).__name__)

            threads = [threading.Thread(target=check) for _ in range(8)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
            assert set(outcomes) == {"Unauthorized"}, outcomes
    finally:
        sys.setswitchinterval(interval)
