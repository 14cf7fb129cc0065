"""Authentication and tenant checks, end to end: real tokens POSTed to the running app.

The app runs with a MicrosoftAppId, its OpenID metadata, JWKS and token endpoint are a local
``AuthServer`` (tests/kit/authkit.py), and replies land at the local mock Bot Connector. Nothing
here reaches a real Microsoft endpoint: :func:`no_external_network` fails any test that tries.

The helpers (:func:`authed_bot`, :func:`fingerprint`, :func:`no_external_network`) live in
tests/kit/authbot.py, shared with the roles, security and fuzz tests.
"""

from __future__ import annotations

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.kit.authbot import (  # noqa: F401 - no_external_network is an autouse fixture
    APP_ID,
    APP_PASSWORD,
    KID,
    LOOPBACK,
    OTHER_TENANT,
    AuthedBot,
    auth_settings,
    authed_bot,
    fingerprint,
    no_external_network,
    seed,
)
from tests.kit.authkit import KeyPair, channel_claims, mint, run_auth_server
from tests.kit.botkit import TENANT, running_bot, text_of


@pytest.fixture(scope="module")
def signing() -> KeyPair:
    return KeyPair.generate(KID)


@pytest.fixture
async def ab(db_url: str, signing: KeyPair) -> AsyncIterator[AuthedBot]:
    async with authed_bot(db_url, signing) as running:
        yield running


# ---- every bad token is a 401, and nothing runs --------------------------------------------------


def _header(value: str | None) -> dict[str, str]:
    return {} if value is None else {"Authorization": value}


async def assert_refused(
    ab: AuthedBot, activity: dict[str, Any], headers: dict[str, str], status: int = 401
) -> Any:
    """POST; expect ``status``, no reply at the connector and not one row changed anywhere."""
    store = ab.bot.services.store
    before = await fingerprint(store)
    got, body = await ab.bot.post(activity, headers=headers)
    assert got == status, (got, body)
    await ab.bot.connector.idle()  # a reply, if one were (wrongly) on its way, has landed
    assert ab.bot.connector.received == []
    assert await fingerprint(store) == before
    return body


def _write_attempt(ab: AuthedBot, **kw: Any) -> dict[str, Any]:
    # The sort of message an attacker would want to get through.
    return ab.bot.acts.message("mark rec 34 as evidenced: forged evidence", **kw)


async def test_no_authorization_header_is_401(ab: AuthedBot) -> None:
    body = await assert_refused(ab, _write_attempt(ab), {})
    assert body == {"error": "unauthorized"}


async def test_empty_or_garbage_header_is_401(ab: AuthedBot) -> None:
    garbage = ["", "Bearer", "Bearer ", "Bearer not-a-jwt", "Bearer a.b.c", "Basic dXNlcjpwYXNz", "Bearer x y",
               "Bearer " + "A" * 6000, "eyJhbGciOiJSUzI1NiJ9.e30.sig", "Bearer eyJhbGciOiJSUzI1NiJ9.e30.",
               "Bearer \u00e9\u00e9.\u00e9.\u00e9"]  # fmt: skip
    for header in garbage:
        await assert_refused(ab, _write_attempt(ab), {"Authorization": header.encode().decode("latin-1")})


async def test_expired_token_is_401(ab: AuthedBot) -> None:
    # Expired an hour ago: well beyond the five minutes of clock skew allowed.
    token = ab.token(now=time.time() - 7200, lifetime=3600)
    await assert_refused(ab, _write_attempt(ab), _header(f"Bearer {token}"))


async def test_not_yet_valid_token_is_401(ab: AuthedBot) -> None:
    token = ab.token(nbf=int(time.time()) + 3600)
    await assert_refused(ab, _write_attempt(ab), _header(f"Bearer {token}"))


async def test_wrong_audience_is_401(ab: AuthedBot) -> None:
    token = ab.token(aud="99999999-8888-7777-6666-555555555555")
    await assert_refused(ab, _write_attempt(ab), _header(f"Bearer {token}"))


async def test_wrong_issuer_is_401(ab: AuthedBot) -> None:
    token = ab.token(issuer="https://sts.windows.net/attacker/")
    await assert_refused(ab, _write_attempt(ab), _header(f"Bearer {token}"))


async def test_unknown_key_id_is_401(ab: AuthedBot) -> None:
    stranger = KeyPair.generate("kid-nobody-published")
    token = mint(channel_claims(APP_ID, ab.service_url), stranger)
    await assert_refused(ab, _write_attempt(ab), _header(f"Bearer {token}"))
    assert ab.auth.jwks_requests == 1  # looked the kid up once, found nothing


async def test_bad_signature_is_401(ab: AuthedBot) -> None:
    impostor = KeyPair.generate(KID)  # claims our kid, signs with another key
    token = mint(channel_claims(APP_ID, ab.service_url), impostor)
    await assert_refused(ab, _write_attempt(ab), _header(f"Bearer {token}"))
    # Our own signature over different claims: the claims were edited after signing.
    header, _, signature = ab.token().split(".")
    forged = json.dumps(channel_claims(APP_ID, ab.service_url, extra="forged")).encode()
    payload = base64.urlsafe_b64encode(forged).rstrip(b"=").decode()
    await assert_refused(ab, _write_attempt(ab), _header(f"Bearer {header}.{payload}.{signature}"))


async def test_alg_none_and_hs256_are_401(ab: AuthedBot) -> None:
    unsigned = mint(channel_claims(APP_ID, ab.service_url), None, kid=KID, alg="none")
    await assert_refused(ab, _write_attempt(ab), _header(f"Bearer {unsigned}"))
    # The classic key-confusion attack: HMAC "signed" with the published RSA public key.
    confused = mint(channel_claims(APP_ID, ab.service_url), ab.signing.public_pem(), kid=KID, alg="HS256")
    await assert_refused(ab, _write_attempt(ab), _header(f"Bearer {confused}"))


async def test_service_url_claim_not_matching_the_activity_is_401(ab: AuthedBot) -> None:
    # A real token for another serviceUrl...
    token = mint(channel_claims(APP_ID, "https://smba.trafficmanager.net/emea/"), ab.signing)
    await assert_refused(ab, _write_attempt(ab), _header(f"Bearer {token}"))
    # ...and a captured token replayed with an activity that redirects replies elsewhere.
    act = _write_attempt(ab)
    act["serviceUrl"] = "http://127.0.0.1:9/"
    await assert_refused(ab, act, _header(f"Bearer {ab.token()}"))
    # ...and a token with no serviceurl claim at all.
    token = mint({k: v for k, v in channel_claims(APP_ID).items()}, ab.signing)
    await assert_refused(ab, _write_attempt(ab), _header(f"Bearer {token}"))


async def test_channel_not_endorsed_by_the_key_is_401(ab: AuthedBot) -> None:
    act = _write_attempt(ab)
    act["channelId"] = "webchat"  # the key is endorsed for msteams only
    await assert_refused(ab, act, _header(f"Bearer {ab.token()}"))


async def test_valid_token_is_accepted_and_the_reply_carries_our_outbound_token(ab: AuthedBot) -> None:
    (reply,) = await ab.say("show rec 34")
    assert "actively seek corruption-related intelligence" in text_of(reply)
    assert ab.auth.tokens_issued == ["access-token-1"]
    # Every outbound POST (typing and the reply) carries the token from the local token endpoint.
    assert ab.bot.connector.received and all(
        r["authorization"] == "Bearer access-token-1" for r in ab.bot.connector.received
    )
    (form,) = ab.auth.token_forms
    assert form["grant_type"] == "client_credentials" and form["client_id"] == APP_ID
    assert form["client_secret"] == APP_PASSWORD and form["scope"] == "https://api.botframework.com/.default"
    assert ab.auth.token_paths == [f"/{TENANT}/oauth2/v2.0/token"]  # single-tenant authority
    # A card click (invoke) with a valid token is answered in the HTTP response.
    status, body = await ab.post(ab.bot.acts.execute("show", {"item_id": 1}))
    assert status == 200 and body["statusCode"] == 200
    # The tenant allowlist compares ids case-insensitively.
    (reply,) = await ab.say("show rec 34", tenant=TENANT.upper())
    assert "recommendation 34" in text_of(reply)


# ---- keys unreachable, slow keys ---------------------------------------------------------------


async def test_keys_unreachable_is_503_and_nothing_runs(db_url: str, signing: KeyPair) -> None:
    async with run_auth_server([signing]) as gone:
        dead_url = gone.metadata_url  # the port is closed after this block: connection refused
    await seed(db_url)
    async with (
        run_auth_server([signing], endorsements={KID: ["msteams"]}, jwks_status=500) as failing,
        running_bot(auth_settings(db_url, failing, openid_url=dead_url)) as unreachable,
        running_bot(auth_settings(db_url, failing)) as broken,
    ):
        for bot in (unreachable, broken):
            ab = AuthedBot(bot, failing, signing)
            body = await assert_refused(ab, _write_attempt(ab), _header(f"Bearer {ab.token()}"), status=503)
            assert body == {"error": "authentication keys unavailable, try again"}
        assert failing.jwks_requests == 1  # the broken JWKS was asked (and failed)


async def test_slow_key_fetch_does_not_block_other_requests(ab: AuthedBot) -> None:
    ab.auth.delay = 0.6  # metadata, JWKS and the token endpoint each take 0.6 s
    loop = asyncio.get_running_loop()
    started = loop.time()
    turn = asyncio.create_task(ab.post(ab.bot.acts.message("show rec 34")))
    await asyncio.sleep(0.1)  # the key fetch is now under way
    latencies = []
    for _ in range(5):
        t0 = loop.time()
        async with ab.bot.http.get(f"{ab.bot.url}/healthz") as resp:
            assert resp.status == 200
        latencies.append(loop.time() - t0)
        assert not turn.done()  # still waiting for the keys while /healthz answers
    assert max(latencies) < 0.5, latencies  # a blocked loop would stall for the 0.6 s fetch
    status, _ = await turn
    assert status == 200
    assert loop.time() - started >= 1.2  # it really did wait for metadata + JWKS
    assert len(await ab.bot.connector.wait_for(1)) == 1


# ---- outbound tokens are cached ----------------------------------------------------------------


async def test_many_turns_one_token_request(ab: AuthedBot) -> None:
    # A cold start with turns arriving at once: they share one token request...
    acts = [ab.bot.acts.message("how many are still open?", conversation=f"a:personal-{n}") for n in range(5)]
    results = await asyncio.gather(*(ab.post(a) for a in acts))
    assert [s for s, _ in results] == [200] * 5
    # ...and later turns reuse it.
    for n in range(10):
        await ab.say("what's overdue?", conversation=f"a:later-{n}")
    assert len(ab.bot.connector.messages()) == 15
    assert ab.auth.token_requests == 1
    assert {r["authorization"] for r in ab.bot.connector.received} == {"Bearer access-token-1"}
    assert ab.auth.metadata_requests == 1 and ab.auth.jwks_requests == 1  # signing keys cached too


# ---- tenant allowlist --------------------------------------------------------------------------


async def test_other_tenant_or_no_tenant_is_403_even_with_a_valid_token(ab: AuthedBot) -> None:
    body = await assert_refused(
        ab, _write_attempt(ab, tenant=OTHER_TENANT), _header(f"Bearer {ab.token()}"), 403
    )
    assert body == {"error": "tenant not allowed"}
    await assert_refused(ab, _write_attempt(ab, tenant=None), _header(f"Bearer {ab.token()}"), 403)


async def test_other_tenant_card_click_is_403_and_writes_nothing(ab: AuthedBot) -> None:
    # A Yes click from another tenant, for a proposal made in ours: still nothing written.
    (confirm,) = await ab.say("mark rec 34 as evidenced: real evidence", user="Sarah Khan", aad="aad-sarah")
    yes = next(a for a in confirm["attachments"][0]["content"]["actions"] if a["title"] == "Yes")
    ab.bot.connector.clear()
    click = ab.bot.acts.execute(
        "confirm", yes["data"], tenant=OTHER_TENANT, user="Sarah Khan", aad="aad-sarah"
    )
    await assert_refused(ab, click, _header(f"Bearer {ab.token()}"), 403)
    item = next(i for i in ab.bot.services.model.items.values() if i.number == "34")
    assert (await ab.bot.services.store.get_item(item.id)).status == "in_progress"
