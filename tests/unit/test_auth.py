"""Inbound token validation and outbound token acquisition, against a real local login server."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator

import aiohttp
import pytest

from bot.auth import AuthUnavailable, OpenIdKeys, TokenError, TokenProvider, TokenValidator, Unauthorized
from tests.kit.authkit import AuthServer, KeyPair, channel_claims, mint, run_auth_server

APP_ID = "11111111-2222-3333-4444-555555555555"
SERVICE_URL = "https://smba.trafficmanager.net/uk/"
CHANNEL = "msteams"
KID = "kid-1"
SECRET = "s3cret-app-password-value"


class FakeClock:
    """A clock tests move by hand."""

    def __init__(self, now: float | None = None) -> None:
        self.now = time.time() if now is None else now

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture(scope="module")
def signing() -> KeyPair:
    return KeyPair.generate(KID)


@pytest.fixture(scope="module")
def impostor() -> KeyPair:
    """A different key that claims the same kid."""
    return KeyPair.generate(KID)


@pytest.fixture
async def server(signing: KeyPair) -> AsyncIterator[AuthServer]:
    async with run_auth_server([signing], endorsements={KID: [CHANNEL, "webchat"]}) as srv:
        yield srv


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as s:
        yield s


@pytest.fixture
def clock() -> Iterator[FakeClock]:
    yield FakeClock()


@pytest.fixture
def keys(session: aiohttp.ClientSession, server: AuthServer, clock: FakeClock) -> OpenIdKeys:
    return OpenIdKeys(session, server.metadata_url, clock=clock, timeout=2)


@pytest.fixture
def validator(keys: OpenIdKeys, clock: FakeClock) -> TokenValidator:
    return TokenValidator(APP_ID, keys, clock=clock)


def good_token(signing: KeyPair, clock: FakeClock, **overrides: object) -> str:
    return mint(channel_claims(APP_ID, SERVICE_URL, now=clock.now, **overrides), signing)


async def assert_rejected(
    validator: TokenValidator, header: str | None, reason: str, **kwargs: str | None
) -> None:
    service_url = kwargs.get("service_url", SERVICE_URL)
    channel_id = kwargs.get("channel_id", CHANNEL)
    with pytest.raises(Unauthorized) as info:
        await validator.validate(header, service_url, channel_id)
    assert info.value.reason == reason


# --- TokenValidator: rejections -------------------------------------------------------------


async def test_no_header(validator: TokenValidator, server: AuthServer) -> None:
    await assert_rejected(validator, None, "missing authorization header")
    assert server.metadata_requests == 0


async def test_empty_header(validator: TokenValidator) -> None:
    await assert_rejected(validator, "", "missing authorization header")


@pytest.mark.parametrize(
    ("header", "reason"),
    [
        ("Bearer xyz", "malformed token"),
        ("Basic abc", "not a bearer token"),
        ("Bearer", "not a bearer token"),
        ("Bearer a.b.c extra", "not a bearer token"),
        ("Bearer a.b.c", "malformed token"),
    ],
)
async def test_garbage_header(
    validator: TokenValidator, server: AuthServer, header: str, reason: str
) -> None:
    await assert_rejected(validator, header, reason)
    assert server.metadata_requests == 0


async def test_expired(validator: TokenValidator, signing: KeyPair, clock: FakeClock) -> None:
    token = good_token(signing, clock, exp=int(clock.now) - 301, nbf=int(clock.now) - 3600)
    await assert_rejected(validator, f"Bearer {token}", "token expired")


async def test_expired_within_skew_is_accepted(
    validator: TokenValidator, signing: KeyPair, clock: FakeClock
) -> None:
    token = good_token(signing, clock, exp=int(clock.now) - 200, nbf=int(clock.now) - 3600)
    claims = await validator.validate(f"Bearer {token}", SERVICE_URL, CHANNEL)
    assert claims["aud"] == APP_ID


async def test_missing_exp(validator: TokenValidator, signing: KeyPair, clock: FakeClock) -> None:
    claims = channel_claims(APP_ID, SERVICE_URL, now=clock.now)
    del claims["exp"]
    await assert_rejected(validator, f"Bearer {mint(claims, signing)}", "missing or invalid exp")


async def test_not_yet_valid(validator: TokenValidator, signing: KeyPair, clock: FakeClock) -> None:
    token = good_token(signing, clock, nbf=int(clock.now) + 301)
    await assert_rejected(validator, f"Bearer {token}", "token not yet valid")


async def test_wrong_audience(validator: TokenValidator, signing: KeyPair, clock: FakeClock) -> None:
    token = good_token(signing, clock, aud="some-other-bot")
    await assert_rejected(validator, f"Bearer {token}", "wrong audience")


async def test_audience_list_is_not_equal(
    validator: TokenValidator, signing: KeyPair, clock: FakeClock
) -> None:
    token = good_token(signing, clock, aud=[APP_ID, "other"])
    await assert_rejected(validator, f"Bearer {token}", "wrong audience")


async def test_wrong_issuer(validator: TokenValidator, signing: KeyPair, clock: FakeClock) -> None:
    token = good_token(signing, clock, iss="https://sts.windows.net/evil/")
    await assert_rejected(validator, f"Bearer {token}", "issuer not allowed")


async def test_unknown_kid(validator: TokenValidator, signing: KeyPair, clock: FakeClock) -> None:
    token = mint(channel_claims(APP_ID, SERVICE_URL, now=clock.now), signing, kid="no-such-kid")
    await assert_rejected(validator, f"Bearer {token}", "unknown signing key")


async def test_missing_kid(
    validator: TokenValidator, signing: KeyPair, clock: FakeClock, server: AuthServer
) -> None:
    token = mint(channel_claims(APP_ID, SERVICE_URL, now=clock.now), signing, kid="")
    await assert_rejected(validator, f"Bearer {token}", "missing key id")
    assert server.metadata_requests == 0


async def test_bad_signature(validator: TokenValidator, impostor: KeyPair, clock: FakeClock) -> None:
    token = good_token(impostor, clock)  # same kid, different key
    await assert_rejected(validator, f"Bearer {token}", "bad signature")


async def test_alg_none(validator: TokenValidator, clock: FakeClock, server: AuthServer) -> None:
    token = mint(channel_claims(APP_ID, SERVICE_URL, now=clock.now), None, kid=KID, alg="none")
    await assert_rejected(validator, f"Bearer {token}", "algorithm not allowed")
    assert server.metadata_requests == 0  # rejected before any key lookup


async def test_hs256_with_public_key_as_secret(
    validator: TokenValidator, signing: KeyPair, clock: FakeClock, server: AuthServer
) -> None:
    token = mint(
        channel_claims(APP_ID, SERVICE_URL, now=clock.now), signing.public_pem(), kid=KID, alg="HS256"
    )
    await assert_rejected(validator, f"Bearer {token}", "algorithm not allowed")
    assert server.metadata_requests == 0


async def test_service_url_mismatch(validator: TokenValidator, signing: KeyPair, clock: FakeClock) -> None:
    token = good_token(signing, clock)
    await assert_rejected(
        validator, f"Bearer {token}", "serviceUrl mismatch", service_url="https://attacker.example/"
    )


async def test_service_url_claim_missing(
    validator: TokenValidator, signing: KeyPair, clock: FakeClock
) -> None:
    token = mint(channel_claims(APP_ID, None, now=clock.now), signing)
    await assert_rejected(validator, f"Bearer {token}", "serviceUrl mismatch")


async def test_service_url_compared_loosely(
    validator: TokenValidator, signing: KeyPair, clock: FakeClock
) -> None:
    token = good_token(signing, clock)
    claims = await validator.validate(f"Bearer {token}", "HTTPS://SMBA.trafficmanager.net/uk", CHANNEL)
    assert claims["serviceurl"] == SERVICE_URL


async def test_channel_not_endorsed(validator: TokenValidator, signing: KeyPair, clock: FakeClock) -> None:
    token = good_token(signing, clock)
    await assert_rejected(
        validator, f"Bearer {token}", "channel not endorsed by signing key", channel_id="skype"
    )


async def test_missing_channel_with_endorsements(
    validator: TokenValidator, signing: KeyPair, clock: FakeClock
) -> None:
    token = good_token(signing, clock)
    await assert_rejected(
        validator, f"Bearer {token}", "channel not endorsed by signing key", channel_id=None
    )


async def test_reason_never_contains_token(
    validator: TokenValidator, signing: KeyPair, clock: FakeClock
) -> None:
    token = good_token(signing, clock, aud="other")
    with pytest.raises(Unauthorized) as info:
        await validator.validate(f"Bearer {token}", SERVICE_URL, CHANNEL)
    assert token not in str(info.value)
    assert token.split(".")[1] not in repr(info.value)


async def test_validator_needs_app_id(keys: OpenIdKeys) -> None:
    with pytest.raises(ValueError):
        TokenValidator("", keys)


# --- TokenValidator: acceptance ---------------------------------------------------------------


async def test_valid_token_accepted(validator: TokenValidator, signing: KeyPair, clock: FakeClock) -> None:
    token = good_token(signing, clock)
    claims = await validator.validate(f"Bearer {token}", SERVICE_URL, CHANNEL)
    assert claims["aud"] == APP_ID
    assert claims["iss"] == "https://api.botframework.com"
    assert claims["serviceurl"] == SERVICE_URL


async def test_lowercase_bearer_scheme_accepted(
    validator: TokenValidator, signing: KeyPair, clock: FakeClock
) -> None:
    claims = await validator.validate(f"bearer {good_token(signing, clock)}", SERVICE_URL, CHANNEL)
    assert claims["aud"] == APP_ID


async def test_key_without_endorsements_accepts_any_channel(
    session: aiohttp.ClientSession, signing: KeyPair, clock: FakeClock
) -> None:
    async with run_auth_server([signing]) as srv:
        validator = TokenValidator(APP_ID, OpenIdKeys(session, srv.metadata_url, clock=clock), clock=clock)
        claims = await validator.validate(f"Bearer {good_token(signing, clock)}", SERVICE_URL, "anything")
    assert claims["aud"] == APP_ID


async def test_extra_allowed_issuer(keys: OpenIdKeys, signing: KeyPair, clock: FakeClock) -> None:
    issuer = "https://login.microsoftonline.com/tenant/v2.0"
    validator = TokenValidator(
        APP_ID, keys, allowed_issuers={"https://api.botframework.com", issuer}, clock=clock
    )
    claims = await validator.validate(
        f"Bearer {good_token(signing, clock, iss=issuer)}", SERVICE_URL, CHANNEL
    )
    assert claims["iss"] == issuer


# --- OpenIdKeys: fetching, caching, failure ---------------------------------------------------


async def test_keys_unreachable(
    validator: TokenValidator, signing: KeyPair, clock: FakeClock, server: AuthServer
) -> None:
    await server.close()  # port now closed: connection refused
    with pytest.raises(AuthUnavailable):
        await validator.validate(f"Bearer {good_token(signing, clock)}", SERVICE_URL, CHANNEL)


async def test_metadata_error_status(
    validator: TokenValidator, signing: KeyPair, clock: FakeClock, server: AuthServer
) -> None:
    server.metadata_status = 500
    with pytest.raises(AuthUnavailable):
        await validator.validate(f"Bearer {good_token(signing, clock)}", SERVICE_URL, CHANNEL)


async def test_jwks_bad_json(
    validator: TokenValidator, signing: KeyPair, clock: FakeClock, server: AuthServer
) -> None:
    server.jwks_body = "{not json"
    with pytest.raises(AuthUnavailable):
        await validator.validate(f"Bearer {good_token(signing, clock)}", SERVICE_URL, CHANNEL)


async def test_keys_timeout(session: aiohttp.ClientSession, signing: KeyPair, clock: FakeClock) -> None:
    async with run_auth_server([signing], delay=1.0) as srv:
        keys = OpenIdKeys(session, srv.metadata_url, timeout=0.2, clock=clock)
        started = time.monotonic()
        with pytest.raises(AuthUnavailable):
            await keys.get_key(KID)
        assert time.monotonic() - started < 0.9


async def test_failure_is_not_retried_immediately(
    keys: OpenIdKeys, clock: FakeClock, server: AuthServer
) -> None:
    server.metadata_status = 503
    for _ in range(5):
        with pytest.raises(AuthUnavailable):
            await keys.get_key(KID)
    assert server.metadata_requests == 1
    server.metadata_status = 200
    clock.advance(11)
    assert (await keys.get_key(KID)).endorsements == (CHANNEL, "webchat")
    assert server.metadata_requests == 2


async def test_metadata_fetched_once_for_many_validations(
    validator: TokenValidator, signing: KeyPair, clock: FakeClock, server: AuthServer
) -> None:
    for _ in range(20):
        await validator.validate(f"Bearer {good_token(signing, clock)}", SERVICE_URL, CHANNEL)
    assert server.metadata_requests == 1
    assert server.jwks_requests == 1


async def test_concurrent_validations_share_one_fetch(
    validator: TokenValidator, signing: KeyPair, clock: FakeClock, server: AuthServer
) -> None:
    server.delay = 0.05  # keep the fetch in flight while the others arrive
    header = f"Bearer {good_token(signing, clock)}"
    results = await asyncio.gather(*(validator.validate(header, SERVICE_URL, CHANNEL) for _ in range(25)))
    assert len(results) == 25
    assert server.metadata_requests == 1
    assert server.jwks_requests == 1


async def test_cache_refreshed_after_ttl(
    validator: TokenValidator, signing: KeyPair, clock: FakeClock, server: AuthServer
) -> None:
    await validator.validate(f"Bearer {good_token(signing, clock)}", SERVICE_URL, CHANNEL)
    clock.advance(24 * 3600 + 1)
    await validator.validate(f"Bearer {good_token(signing, clock)}", SERVICE_URL, CHANNEL)
    assert server.jwks_requests == 2


async def test_stale_cache_used_when_refresh_fails(
    validator: TokenValidator, signing: KeyPair, clock: FakeClock, server: AuthServer
) -> None:
    await validator.validate(f"Bearer {good_token(signing, clock)}", SERVICE_URL, CHANNEL)
    clock.advance(24 * 3600 + 1)
    server.metadata_status = 500
    claims = await validator.validate(f"Bearer {good_token(signing, clock)}", SERVICE_URL, CHANNEL)
    assert claims["aud"] == APP_ID
    assert server.metadata_requests == 2


async def test_unknown_kid_refresh_is_rate_limited(
    validator: TokenValidator, signing: KeyPair, clock: FakeClock, server: AuthServer
) -> None:
    await validator.validate(f"Bearer {good_token(signing, clock)}", SERVICE_URL, CHANNEL)
    assert server.jwks_requests == 1

    # Any fetch counts towards the limit, including the first one.
    token = mint(channel_claims(APP_ID, SERVICE_URL, now=clock.now), signing, kid="garbage-early")
    await assert_rejected(validator, f"Bearer {token}", "unknown signing key")
    assert server.jwks_requests == 1

    clock.advance(301)
    for i in range(10):
        token = mint(channel_claims(APP_ID, SERVICE_URL, now=clock.now), signing, kid=f"garbage-{i}")
        await assert_rejected(validator, f"Bearer {token}", "unknown signing key")
    assert server.jwks_requests == 2  # one refresh for the first unknown kid, then rate-limited

    clock.advance(301)
    token = mint(channel_claims(APP_ID, SERVICE_URL, now=clock.now), signing, kid="garbage-late")
    await assert_rejected(validator, f"Bearer {token}", "unknown signing key")
    assert server.jwks_requests == 3


async def test_rotated_key_picked_up_by_refresh(
    validator: TokenValidator, signing: KeyPair, clock: FakeClock, server: AuthServer
) -> None:
    await validator.validate(f"Bearer {good_token(signing, clock)}", SERVICE_URL, CHANNEL)
    rotated = KeyPair.generate("kid-2")
    server.keys.append(rotated)
    server.endorsements["kid-2"] = [CHANNEL]
    clock.advance(301)  # past the unknown-kid rate limit
    claims = await validator.validate(f"Bearer {good_token(rotated, clock)}", SERVICE_URL, CHANNEL)
    assert claims["aud"] == APP_ID
    assert server.jwks_requests == 2


# --- TokenProvider -----------------------------------------------------------------------------


async def test_token_fetched_once_for_many_calls(session: aiohttp.ClientSession, server: AuthServer) -> None:
    provider = TokenProvider(session, APP_ID, SECRET, authority=server.authority)
    tokens = [await provider.get_token() for _ in range(10)]
    assert tokens == ["access-token-1"] * 10
    assert server.token_requests == 1
    assert server.token_paths == ["/botframework.com/oauth2/v2.0/token"]
    assert server.token_forms[0] == {
        "grant_type": "client_credentials",
        "client_id": APP_ID,
        "client_secret": SECRET,
        "scope": "https://api.botframework.com/.default",
    }


async def test_token_uses_tenant(session: aiohttp.ClientSession, server: AuthServer) -> None:
    provider = TokenProvider(session, APP_ID, SECRET, "my-tenant-id", authority=server.authority)
    await provider.get_token()
    assert server.token_paths == ["/my-tenant-id/oauth2/v2.0/token"]


async def test_token_refreshed_near_expiry(
    session: aiohttp.ClientSession, server: AuthServer, clock: FakeClock
) -> None:
    provider = TokenProvider(session, APP_ID, SECRET, authority=server.authority, clock=clock)
    assert await provider.get_token() == "access-token-1"
    clock.advance(3600 - 301)
    assert await provider.get_token() == "access-token-1"
    clock.advance(2)  # now inside the 5-minute margin
    assert await provider.get_token() == "access-token-2"
    assert server.token_requests == 2


async def test_token_none_without_app_id(session: aiohttp.ClientSession, server: AuthServer) -> None:
    provider = TokenProvider(session, "", "", authority=server.authority)
    assert await provider.get_token() is None
    assert server.token_requests == 0


async def test_concurrent_token_calls_make_one_request(
    session: aiohttp.ClientSession, server: AuthServer
) -> None:
    server.delay = 0.05
    provider = TokenProvider(session, APP_ID, SECRET, authority=server.authority)
    tokens = await asyncio.gather(*(provider.get_token() for _ in range(20)))
    assert set(tokens) == {"access-token-1"}
    assert server.token_requests == 1


async def test_token_error_is_clear_and_secret_free(
    session: aiohttp.ClientSession, server: AuthServer
) -> None:
    server.token_status = 401
    provider = TokenProvider(session, APP_ID, SECRET, authority=server.authority)
    with pytest.raises(TokenError) as info:
        await provider.get_token()
    message = str(info.value)
    assert "HTTP 401" in message
    assert "AADSTS7000215" in message
    assert SECRET not in message


async def test_token_endpoint_unreachable(session: aiohttp.ClientSession, server: AuthServer) -> None:
    provider = TokenProvider(session, APP_ID, SECRET, authority=server.authority)
    await server.close()
    with pytest.raises(TokenError) as info:
        await provider.get_token()
    assert SECRET not in str(info.value)


async def test_cached_token_used_if_refresh_fails_before_expiry(
    session: aiohttp.ClientSession, server: AuthServer, clock: FakeClock
) -> None:
    provider = TokenProvider(session, APP_ID, SECRET, authority=server.authority, clock=clock)
    assert await provider.get_token() == "access-token-1"
    clock.advance(3600 - 60)  # inside the margin, still valid
    server.token_status = 500
    assert await provider.get_token() == "access-token-1"
    clock.advance(61)  # expired
    with pytest.raises(TokenError):
        await provider.get_token()


async def test_provider_needs_password_with_app_id(session: aiohttp.ClientSession) -> None:
    with pytest.raises(ValueError):
        TokenProvider(session, APP_ID, "")


async def test_cancelled_caller_does_not_cancel_shared_fetch(keys: OpenIdKeys, server: AuthServer) -> None:
    server.delay = 0.1
    first = asyncio.ensure_future(keys.get_key(KID))
    second = asyncio.ensure_future(keys.get_key(KID))
    await asyncio.sleep(0.02)
    first.cancel()
    info = await second
    assert info.endorsements == (CHANNEL, "webchat")
    assert first.cancelled()
    assert server.metadata_requests == 1


async def test_logs_never_contain_secret_or_token(
    session: aiohttp.ClientSession, server: AuthServer, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level("DEBUG")
    provider = TokenProvider(session, APP_ID, SECRET, authority=server.authority)
    token = await provider.get_token()
    assert token
    server.token_status = 401
    failing = TokenProvider(session, APP_ID, SECRET, authority=server.authority)
    with pytest.raises(TokenError):
        await failing.get_token()
    assert SECRET not in caplog.text
    assert token not in caplog.text
