"""Bot Framework authentication: inbound token validation and outbound token acquisition.

botbuilder's own implementation fetches OpenID keys with a blocking ``requests.get`` on the
event loop, turns most bad tokens into HTTP 500, and asks for outbound tokens synchronously on
every turn. This module does both jobs with aiohttp, without blocking the loop:

- :class:`OpenIdKeys` fetches and caches the signing keys published by the Bot Framework.
- :class:`TokenValidator` checks the ``Authorization`` header of an inbound activity.
- :class:`TokenProvider` obtains the token we attach to outbound replies.

Errors map to HTTP statuses: :class:`Unauthorized` is 401, :class:`AuthUnavailable` is 503.
Nothing here ever logs or puts into an exception message a token or a secret.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Awaitable, Callable, Iterable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar
from urllib.parse import quote

import aiohttp
import jwt
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPublicKey
from jwt.algorithms import RSAAlgorithm

logger = logging.getLogger(__name__)

BOT_FRAMEWORK_OPENID_URL = "https://login.botframework.com/v1/.well-known/openidconfiguration"
BOT_FRAMEWORK_ISSUER = "https://api.botframework.com"
DEFAULT_AUTHORITY = "https://login.microsoftonline.com"
DEFAULT_SCOPE = "https://api.botframework.com/.default"
DEFAULT_TENANT = "botframework.com"

# Only RS256 is accepted: the Bot Framework signs with it, and a fixed list is what defeats
# "alg: none" and the HS256-with-the-public-key confusion attack.
ALLOWED_ALGORITHM = "RS256"

# The documents we fetch are a few KB; a cap stops a misbehaving endpoint filling memory.
_MAX_DOCUMENT_BYTES = 1024 * 1024

T = TypeVar("T")


class Unauthorized(Exception):
    """The request's credentials are missing or invalid: answer HTTP 401.

    The message is a short fixed reason, safe to log; it never contains the token.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


class AuthUnavailable(Exception):
    """The signing keys could not be fetched, so no token can be checked: answer HTTP 503."""


class TokenError(Exception):
    """An outbound token could not be obtained. The message never contains the secret or a token."""


@dataclass(frozen=True)
class KeyInfo:
    """One signing key from the JWKS, with the channels that endorse it."""

    key: RSAPublicKey
    endorsements: tuple[str, ...] = ()


class _SingleFlight(Generic[T]):
    """Run at most one instance of an async operation at a time; concurrent callers share it.

    The shared task is shielded so one caller being cancelled does not cancel the work the
    others are waiting for.
    """

    def __init__(self) -> None:
        self._task: asyncio.Task[T] | None = None

    @property
    def in_flight(self) -> bool:
        """True while an operation is running."""
        return self._task is not None and not self._task.done()

    async def run(self, operation: Callable[[], Awaitable[T]]) -> T:
        """Join the running operation, or start ``operation`` if none is running."""
        task = self._task
        if task is None or task.done():
            task = asyncio.ensure_future(operation())
            task.add_done_callback(self._finished)
            self._task = task
        return await asyncio.shield(task)

    def _finished(self, task: asyncio.Task[T]) -> None:
        # Retrieve the exception so asyncio does not warn about it if every waiter was cancelled.
        if not task.cancelled():
            task.exception()


async def _read_json(response: aiohttp.ClientResponse, what: str, *, require_ok: bool = True) -> Any:
    """Read a JSON body with a size cap, raising ValueError with a safe message on any problem."""
    if require_ok and response.status != 200:
        raise ValueError(f"{what}: HTTP {response.status}")
    body = bytearray()
    async for chunk in response.content.iter_chunked(65536):
        body.extend(chunk)
        if len(body) > _MAX_DOCUMENT_BYTES:
            raise ValueError(f"{what}: response too large")
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ValueError(f"{what}: not valid JSON") from exc


class OpenIdKeys:
    """The signing keys behind an OpenID metadata document, fetched with aiohttp and cached.

    - Keys are cached for ``ttl`` seconds; after that the next lookup refreshes them.
    - A kid we do not know triggers a refresh (keys rotate), but at most once per
      ``unknown_kid_interval`` seconds, so tokens with made-up kids cannot make us hammer the
      endpoint.
    - Concurrent lookups that need a refresh share one fetch.
    - If a refresh fails, previously fetched keys stay usable; with none, :class:`AuthUnavailable`.
      After a failure, no new attempt is made for ``retry_after_failure`` seconds.
    """

    def __init__(
        self,
        session: aiohttp.ClientSession,
        metadata_url: str = BOT_FRAMEWORK_OPENID_URL,
        *,
        ttl: float = 24 * 3600,
        unknown_kid_interval: float = 300,
        retry_after_failure: float = 10,
        timeout: float = 10,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._session = session
        self._metadata_url = metadata_url
        self._ttl = ttl
        self._unknown_kid_interval = unknown_kid_interval
        self._retry_after_failure = retry_after_failure
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._clock = clock
        self._keys: dict[str, KeyInfo] = {}
        self._fetched_at: float | None = None  # time of the last successful fetch
        self._attempted_at: float | None = None  # time the last fetch started
        self._last_failed = False
        self._flight: _SingleFlight[None] = _SingleFlight()

    async def get_key(self, kid: str) -> KeyInfo:
        """Return the key with this kid.

        Raises :class:`Unauthorized` if no such key is published, :class:`AuthUnavailable` if
        the keys could not be fetched.
        """
        now = self._clock()
        fresh = self._fetched_at is not None and now - self._fetched_at < self._ttl
        if fresh and kid in self._keys:
            return self._keys[kid]

        if self._flight.in_flight or self._should_refresh(now, fresh):
            await self._flight.run(self._refresh)

        info = self._keys.get(kid)
        if info is not None:
            return info
        if self._fetched_at is None or self._last_failed:
            # We could not get the current key set, so we cannot tell whether this kid is real.
            raise AuthUnavailable("signing keys could not be fetched")
        raise Unauthorized("unknown signing key")

    def _should_refresh(self, now: float, fresh: bool) -> bool:
        """Whether a lookup that missed the fresh cache may start a fetch now."""
        if self._attempted_at is None:
            return True
        since = now - self._attempted_at
        if self._last_failed and since < self._retry_after_failure:
            return False
        if not fresh:
            return True
        # Fresh cache, unknown kid: rate-limited, because the kid comes from the caller.
        return since >= self._unknown_kid_interval

    async def _refresh(self) -> None:
        """Fetch metadata then JWKS; replace the cache on success, keep it on failure."""
        self._attempted_at = self._clock()
        try:
            keys = await self._fetch_keys()
        except (aiohttp.ClientError, OSError, ValueError) as exc:
            self._last_failed = True
            logger.warning(
                "Could not fetch OpenID signing keys from %s (%s); %s",
                self._metadata_url,
                _describe(exc),
                "keeping cached keys" if self._keys else "no cached keys",
            )
            return
        self._keys = keys
        self._fetched_at = self._clock()
        self._last_failed = False
        logger.info("Fetched %d OpenID signing keys from %s", len(keys), self._metadata_url)

    async def _fetch_keys(self) -> dict[str, KeyInfo]:
        async with self._session.get(self._metadata_url, timeout=self._timeout) as response:
            metadata = await _read_json(response, "openid metadata")
        jwks_uri = metadata.get("jwks_uri") if isinstance(metadata, dict) else None
        if not isinstance(jwks_uri, str) or not jwks_uri:
            raise ValueError("openid metadata: no jwks_uri")
        async with self._session.get(jwks_uri, timeout=self._timeout) as response:
            jwks = await _read_json(response, "jwks")
        entries = jwks.get("keys") if isinstance(jwks, dict) else None
        if not isinstance(entries, list):
            raise ValueError("jwks: no keys list")
        keys: dict[str, KeyInfo] = {}
        for entry in entries:
            parsed = _parse_jwk(entry)
            if parsed is not None:
                keys[parsed[0]] = parsed[1]
        if not keys:
            # An empty set would make every token fail; treat it as a failed fetch instead.
            raise ValueError("jwks: no usable RSA signing keys")
        return keys


def _parse_jwk(entry: Any) -> tuple[str, KeyInfo] | None:
    """Turn one JWK into (kid, KeyInfo), or None if it is not a usable RSA signing key."""
    if not isinstance(entry, dict) or entry.get("kty") != "RSA":
        return None
    kid = entry.get("kid")
    if not isinstance(kid, str) or not kid or entry.get("use", "sig") != "sig":
        return None
    try:
        key = RSAAlgorithm.from_jwk(entry)
    except (jwt.PyJWTError, ValueError, TypeError, KeyError):
        logger.warning("Skipping a malformed RSA key in the JWKS")
        return None
    if not isinstance(key, RSAPublicKey):
        return None
    raw = entry.get("endorsements")
    endorsements = tuple(e for e in raw if isinstance(e, str)) if isinstance(raw, list) else ()
    return kid, KeyInfo(key=key, endorsements=endorsements)


def _describe(exc: BaseException) -> str:
    """A short, secret-free description of a network or parse failure."""
    if isinstance(exc, TimeoutError):
        return "timed out"
    if isinstance(exc, ValueError):
        return str(exc)
    return type(exc).__name__


def _normalise_url(url: str) -> str:
    return url.strip().rstrip("/").lower()


class TokenValidator:
    """Validates the ``Authorization`` header the Bot Framework sends with each activity."""

    def __init__(
        self,
        app_id: str,
        keys: OpenIdKeys,
        *,
        allowed_issuers: Iterable[str] = frozenset({BOT_FRAMEWORK_ISSUER}),
        clock_skew: float = 300,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if not app_id:
            # Without an app id every audience check would be meaningless; local mode (no
            # auth) must be chosen explicitly by not validating at all.
            raise ValueError("TokenValidator needs a non-empty app_id")
        self._app_id = app_id
        self._keys = keys
        self._allowed_issuers = frozenset(allowed_issuers)
        self._clock_skew = clock_skew
        self._clock = clock

    async def validate(
        self, auth_header: str | None, service_url: str | None, channel_id: str | None
    ) -> dict[str, Any]:
        """Check the header against the activity's serviceUrl and channelId; return the claims.

        Raises :class:`Unauthorized` with a short reason for any invalid token, and
        :class:`AuthUnavailable` if the signing keys cannot be fetched.
        """
        token = _bearer_token(auth_header)
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError as exc:
            raise Unauthorized("malformed token") from exc

        # Decided before any key lookup, so a forged algorithm never reaches key handling.
        if header.get("alg") != ALLOWED_ALGORITHM:
            raise Unauthorized("algorithm not allowed")
        kid = header.get("kid")
        if not isinstance(kid, str) or not kid:
            raise Unauthorized("missing key id")

        info = await self._keys.get_key(kid)
        try:
            claims = jwt.decode(
                token,
                key=info.key,
                algorithms=[ALLOWED_ALGORITHM],
                # Times are checked below with the injected clock; aud/iss below too, so every
                # rule and its reason live in one place.
                options={
                    "verify_signature": True,
                    "verify_exp": False,
                    "verify_nbf": False,
                    "verify_iat": False,
                    "verify_aud": False,
                    "verify_iss": False,
                },
            )
        except jwt.InvalidSignatureError as exc:
            raise Unauthorized("bad signature") from exc
        except jwt.PyJWTError as exc:
            raise Unauthorized("malformed token") from exc

        self._check_claims(claims)
        if info.endorsements and channel_id not in info.endorsements:
            raise Unauthorized("channel not endorsed by signing key")
        _check_service_url(claims, service_url)
        return claims

    def _check_claims(self, claims: dict[str, Any]) -> None:
        if claims.get("aud") != self._app_id:
            raise Unauthorized("wrong audience")
        if claims.get("iss") not in self._allowed_issuers:
            raise Unauthorized("issuer not allowed")
        now = self._clock()
        exp = claims.get("exp")
        if not _is_number(exp):
            raise Unauthorized("missing or invalid exp")
        assert exp is not None
        if now > exp + self._clock_skew:
            raise Unauthorized("token expired")
        nbf = claims.get("nbf")
        if nbf is not None:
            if not _is_number(nbf):
                raise Unauthorized("invalid nbf")
            if now + self._clock_skew < nbf:
                raise Unauthorized("token not yet valid")


def _bearer_token(auth_header: str | None) -> str:
    if not auth_header:
        raise Unauthorized("missing authorization header")
    parts = auth_header.split()
    if len(parts) != 2 or parts[0].lower() != "bearer":
        raise Unauthorized("not a bearer token")
    return parts[1]


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _check_service_url(claims: dict[str, Any], service_url: str | None) -> None:
    """The token must have been issued for the serviceUrl the activity tells us to reply to.

    Otherwise a token captured from one channel could direct our replies (and our outbound
    token) to a server of the attacker's choosing.
    """
    claimed = claims.get("serviceurl")
    if claimed is None and not service_url:
        return
    if not isinstance(claimed, str) or not service_url:
        raise Unauthorized("serviceUrl mismatch")
    if _normalise_url(claimed) != _normalise_url(service_url):
        raise Unauthorized("serviceUrl mismatch")


_AADSTS = re.compile(r"\bAADSTS\d+\b")


class TokenProvider:
    """Obtains (client credentials) and caches the token we attach to outbound replies."""

    def __init__(
        self,
        session: aiohttp.ClientSession,
        app_id: str,
        app_password: str,
        tenant_id: str | None = None,
        *,
        authority: str = DEFAULT_AUTHORITY,
        scope: str = DEFAULT_SCOPE,
        refresh_margin: float = 300,
        timeout: float = 10,
        clock: Callable[[], float] = time.time,
    ) -> None:
        if app_id and not app_password:
            raise ValueError("TokenProvider needs app_password when app_id is set")
        self._session = session
        self._app_id = app_id
        self._app_password = app_password
        tenant = tenant_id or DEFAULT_TENANT
        self._token_url = f"{authority.rstrip('/')}/{quote(tenant, safe='')}/oauth2/v2.0/token"
        self._scope = scope
        self._refresh_margin = refresh_margin
        self._timeout = aiohttp.ClientTimeout(total=timeout)
        self._clock = clock
        self._token: str | None = None
        self._refresh_at = 0.0
        self._expires_at = 0.0
        self._flight: _SingleFlight[str] = _SingleFlight()

    async def get_token(self) -> str | None:
        """The current access token, or None in local mode (empty app_id).

        Raises :class:`TokenError` if no valid token can be obtained.
        """
        if not self._app_id:
            return None
        if self._token is not None and self._clock() < self._refresh_at:
            return self._token
        try:
            return await self._flight.run(self._fetch)
        except TokenError:
            # A token inside the refresh margin is still valid: better to use it than fail.
            if self._token is not None and self._clock() < self._expires_at:
                logger.warning("Token refresh failed; using the cached token until it expires")
                return self._token
            raise

    async def _fetch(self) -> str:
        form = {
            "grant_type": "client_credentials",
            "client_id": self._app_id,
            "client_secret": self._app_password,
            "scope": self._scope,
        }
        started = self._clock()
        try:
            async with self._session.post(self._token_url, data=form, timeout=self._timeout) as response:
                status = response.status
                try:
                    body = await _read_json(response, "token endpoint", require_ok=False)
                except ValueError:
                    body = None
        except TimeoutError as exc:
            raise TokenError(f"token request to {self._token_url} timed out") from exc
        except aiohttp.ClientError as exc:
            raise TokenError(f"token request to {self._token_url} failed: {type(exc).__name__}") from exc

        if status != 200:
            raise TokenError(f"token request to {self._token_url} failed: HTTP {status}{_aad_error(body)}")
        token = body.get("access_token") if isinstance(body, dict) else None
        expires_in = _as_seconds(body.get("expires_in")) if isinstance(body, dict) else None
        if not isinstance(token, str) or not token or expires_in is None or expires_in <= 0:
            raise TokenError(f"token response from {self._token_url} is missing access_token or expires_in")

        # Refresh refresh_margin before expiry; for short-lived tokens, at half their life, so a
        # token shorter than the margin is not fetched again on every call.
        lead = min(self._refresh_margin, expires_in / 2)
        self._token = token
        self._expires_at = started + expires_in
        self._refresh_at = started + expires_in - lead
        logger.info("Obtained outbound token, valid for %d s", expires_in)
        return token


def _aad_error(body: Any) -> str:
    """The error code and AADSTS number from an Entra ID error body: useful, never secret."""
    if not isinstance(body, dict):
        return ""
    parts = []
    error = body.get("error")
    if isinstance(error, str) and re.fullmatch(r"[a-z_]{1,64}", error):
        parts.append(error)
    description = body.get("error_description")
    if isinstance(description, str):
        match = _AADSTS.search(description)
        if match:
            parts.append(match.group(0))
    return f" ({', '.join(parts)})" if parts else ""


def _as_seconds(value: Any) -> int | None:
    """expires_in is a number in v2 responses but a string in some older ones."""
    if isinstance(value, bool):
        return None
    try:
        return int(float(value))
    except (TypeError, ValueError):
        return None
