"""Test kit for Bot Framework auth: real RSA keys, real JWTs, a real local login server.

Everything runs on 127.0.0.1; nothing here talks to Microsoft.

Typical use::

    signing = KeyPair.generate("kid-1")
    async with run_auth_server([signing], endorsements={"kid-1": ["msteams"]}) as server:
        async with aiohttp.ClientSession() as session:
            keys = OpenIdKeys(session, server.metadata_url)
            validator = TokenValidator(APP_ID, keys)
            token = mint(channel_claims(APP_ID, SERVICE_URL), signing)
            claims = await validator.validate(f"Bearer {token}", SERVICE_URL, "msteams")
            provider = TokenProvider(session, APP_ID, "secret", authority=server.authority)
        assert server.metadata_requests == 1

As a pytest fixture::

    @pytest.fixture
    async def auth_server():
        async with run_auth_server([KeyPair.generate("kid-1")]) as server:
            yield server
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import json
import time
import uuid
from collections.abc import AsyncIterator, Iterable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import jwt
from aiohttp import web
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"
METADATA_PATH = "/v1/.well-known/openidconfiguration"
JWKS_PATH = "/v1/.well-known/keys"


@dataclass(frozen=True)
class KeyPair:
    """An RSA key pair generated in the test, with the kid it is published under."""

    kid: str
    private_key: rsa.RSAPrivateKey

    @classmethod
    def generate(cls, kid: str | None = None) -> KeyPair:
        """A fresh 2048-bit key; kid defaults to a random one."""
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        return cls(kid=kid or uuid.uuid4().hex, private_key=key)

    @property
    def public_key(self) -> rsa.RSAPublicKey:
        """The public half."""
        return self.private_key.public_key()

    def public_pem(self) -> bytes:
        """The public key as PEM bytes (what an HS256 confusion attack uses as the HMAC secret)."""
        return self.public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )

    def jwk(self, endorsements: Iterable[str] | None = None) -> dict[str, Any]:
        """The public key as a JWK dict, shaped like the Bot Framework's (use, kid, endorsements)."""
        jwk: dict[str, Any] = RSAAlgorithm.to_jwk(self.public_key, as_dict=True)
        jwk.update({"kid": self.kid, "use": "sig"})
        if endorsements is not None:
            jwk["endorsements"] = list(endorsements)
        return jwk


def channel_claims(
    app_id: str,
    service_url: str | None = None,
    *,
    issuer: str = BOT_FRAMEWORK_ISSUER,
    lifetime: float = 3600,
    now: float | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """Claims shaped like a Bot Framework channel token for ``app_id``.

    ``serviceurl`` is included when ``service_url`` is given; ``extra`` overrides or adds claims
    (pass ``nbf=...``, ``exp=...``, ``aud=...`` to build broken tokens).
    """
    issued = time.time() if now is None else now
    claims: dict[str, Any] = {
        "iss": issuer,
        "aud": app_id,
        "nbf": int(issued) - 60,
        "iat": int(issued) - 60,
        "exp": int(issued + lifetime),
    }
    if service_url is not None:
        claims["serviceurl"] = service_url
    claims.update(extra)
    return claims


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def mint(
    claims: Mapping[str, Any],
    key: KeyPair | rsa.RSAPrivateKey | bytes | str | None,
    kid: str | None = None,
    alg: str = "RS256",
    headers: Mapping[str, Any] | None = None,
) -> str:
    """Sign ``claims`` into a compact JWT.

    - ``key`` is a KeyPair (its kid is used unless ``kid`` is given), an RSA private key, or for
      ``alg="HS256"`` the raw secret (e.g. ``pair.public_pem()``), or None for ``alg="none"``.
    - ``kid=""`` leaves the kid header out.
    - HS256 and none are built by hand: PyJWT (rightly) refuses to use a PEM public key as an
      HMAC secret, and those are exactly the attack tokens tests need.
    """
    if isinstance(key, KeyPair):
        kid = key.kid if kid is None else kid
        key = key.private_key
    header: dict[str, Any] = {"alg": alg, "typ": "JWT"}
    if kid:
        header["kid"] = kid
    if headers:
        header.update(headers)

    if alg.startswith(("RS", "PS")):
        extra = {k: v for k, v in header.items() if k != "alg"}
        return jwt.encode(dict(claims), key, algorithm=alg, headers=extra)

    signing_input = (
        _b64url(json.dumps(header, separators=(",", ":")).encode())
        + "."
        + _b64url(json.dumps(dict(claims), separators=(",", ":")).encode())
    )
    if alg.lower() == "none":
        return signing_input + "."
    if alg == "HS256":
        secret = key.encode() if isinstance(key, str) else key
        if not isinstance(secret, bytes):
            raise TypeError("HS256 needs a bytes or str secret")
        signature = hmac.new(secret, signing_input.encode("ascii"), hashlib.sha256).digest()
        return signing_input + "." + _b64url(signature)
    raise ValueError(f"mint does not support alg {alg!r}")


@dataclass
class AuthServer:
    """A running local OpenID metadata + JWKS + token endpoint, with request counters.

    Attributes are mutable while it runs, so tests can rotate keys or break endpoints:

    - ``keys`` / ``endorsements``: what the JWKS publishes (endorsements by kid).
    - ``metadata_status`` / ``jwks_status``: HTTP status to answer with (200 = normal).
    - ``jwks_body``: raw text to serve instead of the JWKS (e.g. invalid JSON).
    - ``token_status``, ``token_expires_in``, ``token_error``: token endpoint behaviour.
    - ``delay``: seconds every endpoint waits before answering (for concurrency/timeout tests).
    - ``token_forms``: the form fields of each token request, in order.
    """

    keys: list[KeyPair]
    endorsements: dict[str, list[str]] = field(default_factory=dict)
    issuer: str = BOT_FRAMEWORK_ISSUER
    metadata_status: int = 200
    jwks_status: int = 200
    jwks_body: str | None = None
    token_status: int = 200
    token_expires_in: int = 3600
    token_error: dict[str, Any] = field(
        default_factory=lambda: {
            "error": "invalid_client",
            "error_description": "AADSTS7000215: Invalid client secret provided.",
        }
    )
    delay: float = 0.0
    base_url: str = ""
    metadata_requests: int = 0
    jwks_requests: int = 0
    token_requests: int = 0
    tokens_issued: list[str] = field(default_factory=list)
    token_forms: list[dict[str, str]] = field(default_factory=list)
    token_paths: list[str] = field(default_factory=list)
    _runner: web.AppRunner | None = None

    @property
    def metadata_url(self) -> str:
        """Pass to ``OpenIdKeys(session, metadata_url)``."""
        return self.base_url + METADATA_PATH

    @property
    def jwks_url(self) -> str:
        """Where the metadata document points for keys."""
        return self.base_url + JWKS_PATH

    @property
    def authority(self) -> str:
        """Pass to ``TokenProvider(..., authority=...)``; tokens are served at {authority}/{tenant}/oauth2/v2.0/token."""
        return self.base_url

    @property
    def port(self) -> int:
        """The TCP port the server listens on (on 127.0.0.1)."""
        return int(self.base_url.rsplit(":", 1)[1])

    def build_app(self) -> web.Application:
        """The aiohttp app; exposed so other tests can mount it in their own server if needed."""
        app = web.Application()
        app.router.add_get(METADATA_PATH, self._metadata)
        app.router.add_get(JWKS_PATH, self._jwks)
        app.router.add_post("/{tenant}/oauth2/v2.0/token", self._token)
        return app

    async def start(self) -> None:
        """Listen on 127.0.0.1, on a free port."""
        # A short shutdown timeout: tests that stop the server mid-request must not wait 60 s.
        self._runner = web.AppRunner(self.build_app(), shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        host, port = self._runner.addresses[0][:2]
        self.base_url = f"http://{host}:{port}"

    async def close(self) -> None:
        """Stop listening; the port is closed afterwards (for 'keys unreachable' tests)."""
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def _pause(self) -> None:
        if self.delay:
            await asyncio.sleep(self.delay)

    async def _metadata(self, request: web.Request) -> web.Response:
        self.metadata_requests += 1
        await self._pause()
        if self.metadata_status != 200:
            return web.json_response({"error": "unavailable"}, status=self.metadata_status)
        return web.json_response(
            {
                "issuer": self.issuer,
                "authorization_endpoint": self.base_url + "/v1/.well-known/authorize",
                "jwks_uri": self.jwks_url,
                "id_token_signing_alg_values_supported": ["RS256"],
                "token_endpoint_auth_methods_supported": ["private_key_jwt"],
            }
        )

    async def _jwks(self, request: web.Request) -> web.Response:
        self.jwks_requests += 1
        await self._pause()
        if self.jwks_status != 200:
            return web.json_response({"error": "unavailable"}, status=self.jwks_status)
        if self.jwks_body is not None:
            return web.Response(text=self.jwks_body, content_type="application/json")
        keys = [pair.jwk(self.endorsements.get(pair.kid)) for pair in self.keys]
        return web.json_response({"keys": keys})

    async def _token(self, request: web.Request) -> web.Response:
        self.token_requests += 1
        form = {k: str(v) for k, v in (await request.post()).items()}
        self.token_forms.append(form)
        self.token_paths.append(request.path)
        await self._pause()
        if self.token_status != 200:
            return web.json_response(self.token_error, status=self.token_status)
        token = f"access-token-{self.token_requests}"
        self.tokens_issued.append(token)
        return web.json_response(
            {
                "token_type": "Bearer",
                "expires_in": self.token_expires_in,
                "ext_expires_in": self.token_expires_in,
                "access_token": token,
            }
        )


@asynccontextmanager
async def run_auth_server(
    keys: Iterable[KeyPair] = (),
    *,
    endorsements: Mapping[str, Iterable[str]] | None = None,
    **settings: Any,
) -> AsyncIterator[AuthServer]:
    """Run an :class:`AuthServer` on 127.0.0.1 for the duration of the block.

    ``settings`` are any other AuthServer fields (``token_expires_in=...``, ``delay=...``).
    """
    server = AuthServer(
        keys=list(keys),
        endorsements={kid: list(v) for kid, v in (endorsements or {}).items()},
        **settings,
    )
    await server.start()
    try:
        yield server
    finally:
        await server.close()
