"""The fast path of public verification (issue 9, speed) answers exactly as the plain one.

- An anonymous visitor's result page, set into the page shell rendered once per language, is byte
  for byte the page rendered in full (valid, revoked, superseded, not found; both languages).
- With Redis: one script counts the lookup and (``PORTAL_VERIFY_LOG_BUFFER``) queues its log row;
  ``flush_log`` writes the rows with the time of the lookup; a flush that died leaves its rows for
  the next; the rate limit refuses as before; a dead Redis still answers and logs every lookup.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os

import pytest
from django.core.cache import cache, caches
from django.test import Client
from django.urls import reverse
from redis.exceptions import RedisError

from certificates.models import Certificate, VerificationLog
from certificates.services import verification
from certificates.views import verify as verify_views
from tests.certificates.test_verify_builders import issued, revoke, supersede

pytestmark = pytest.mark.django_db

PAGE = "/verify/"
REDIS_URL = os.environ.get("REDIS_URL", "")
needs_redis = pytest.mark.skipif(not REDIS_URL, reason="needs Redis: .ci/run sets REDIS_URL")


@pytest.fixture(autouse=True)
def _fresh():
    cache.clear()
    verify_views._shells.clear()
    yield
    with contextlib.suppress(RedisError):  # the dead-Redis drill's cache is still configured here
        cache.clear()
    verify_views._shells.clear()


def _full(client_get):
    """The same request with a (stale) session cookie: the page is rendered in full."""
    client = Client()
    client.cookies["sessionid"] = "no-such-session"
    return client_get(client)


@pytest.mark.parametrize("language", ["zh-hans", "en"])
def test_rule_the_shell_page_is_byte_for_byte_the_full_page(language):
    valid, other = issued(2)
    revoked = revoke(other, reason="考生<b>身份</b> & 信息不实 2999-12-30 \x02name\x02")
    Certificate.objects.filter(pk=valid.pk).update(work_type="维修电工 <i>&")
    old = issued(1)[0]
    supersede(old, name="李小红")
    cases = [
        lambda cl: cl.get(reverse("certificates:verify_token", args=[valid.token]), HTTP_ACCEPT_LANGUAGE=language),
        lambda cl: cl.get(reverse("certificates:verify_token", args=[revoked.token]), HTTP_ACCEPT_LANGUAGE=language),
        lambda cl: cl.get(reverse("certificates:verify_token", args=[old.token]), HTTP_ACCEPT_LANGUAGE=language),
        lambda cl: cl.get(reverse("certificates:verify_token", args=["no-such-token"]), HTTP_ACCEPT_LANGUAGE=language),
        lambda cl: cl.post(
            PAGE,
            {"by": "number", "number-number": valid.number, "number-name": valid.name},
            HTTP_ACCEPT_LANGUAGE=language,
        ),
        lambda cl: cl.post(
            PAGE,
            {"by": "number", "number-number": revoked.number, "number-name": revoked.name},
            HTTP_ACCEPT_LANGUAGE=language,
        ),
        lambda cl: cl.post(
            PAGE + "?a=1&b=<x>",
            {"by": "id", "id-id_number": valid.id_number, "id-name": "王小明"},
            HTTP_ACCEPT_LANGUAGE=language,
        ),
    ]
    for get in cases:
        shell = get(Client())
        full = _full(get)
        assert shell.status_code == full.status_code == 200
        assert shell.content == full.content
        assert shell["Content-Type"] == full["Content-Type"]
        assert shell.get("Vary") == full.get("Vary")
    assert verify_views._shells  # the shell path was taken


def test_rule_the_shell_carries_no_answer_of_an_earlier_visitor():
    a, b = issued(2)
    Client().get(reverse("certificates:verify_token", args=[a.token]))
    body = Client().get(reverse("certificates:verify_token", args=[b.token])).content.decode()
    assert b.name in body and a.name not in body and a.token not in body


# --- Redis: one round trip, buffered log --------------------------------------------------


@pytest.fixture
def redis_cache(settings):
    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
    settings.PORTAL_VERIFY_LOG_BUFFER = True
    redis = verification.redis_client()
    redis.delete(verification.LOG_KEY, verification.LOG_FLUSHING_KEY, verification.LOG_LOCK_KEY)
    caches["default"].clear()
    yield redis
    redis.delete(verification.LOG_KEY, verification.LOG_FLUSHING_KEY, verification.LOG_LOCK_KEY)
    caches["default"].clear()


@needs_redis
def test_rule_buffered_lookups_reach_the_log_at_the_flush_with_their_own_time(redis_cache):
    c = revoke(issued(1)[0])
    Client().get(reverse("certificates:verify_token", args=[c.token]))
    Client().post(PAGE, {"by": "number", "number-number": c.number, "number-name": "王小明"})
    assert VerificationLog.objects.count() == 0 and redis_cache.llen(verification.LOG_KEY) == 2
    before = dt.datetime.now(dt.UTC)
    assert verification.flush_log() == 2
    logs = list(VerificationLog.objects.order_by("pk"))
    assert [(x.channel, x.answer, x.asked, x.certificate_id) for x in logs] == [
        ("qr", "revoked", "token", c.pk),
        ("page", "not_found", f"number:{c.number}", None),
    ]
    assert all(x.at <= before and len(x.client_hash) == 64 for x in logs)
    assert logs[0].client_hash == verification.client_hash(type("R", (), {"META": {"REMOTE_ADDR": "127.0.0.1"}})())
    assert redis_cache.llen(verification.LOG_KEY) == 0 and verification.flush_log() == 0


@needs_redis
def test_rule_a_flush_that_died_leaves_its_rows_for_the_next(redis_cache):
    c = issued(1)[0]
    row = verification._row(dt.datetime.now(dt.UTC).isoformat(), "qr", "token", "valid", c.pk, "h" * 64)
    redis_cache.rpush(verification.LOG_FLUSHING_KEY, row)  # moved, never inserted
    Client().get(reverse("certificates:verify_token", args=[c.token]))
    assert verification.flush_log() == 2
    assert VerificationLog.objects.filter(certificate=c).count() == 2


@needs_redis
def test_rule_the_one_round_trip_limit_refuses_as_before(redis_cache, settings):
    settings.PORTAL_VERIFY_RATE = "2/m"
    c = issued(1)[0]
    url = reverse("certificates:verify_token", args=[c.token])
    assert [Client().get(url).status_code for _ in range(3)] == [200, 200, 429]
    assert Client(REMOTE_ADDR="10.0.0.9").get(url).status_code == 200
    api = Client().get("/api/v1/certificates/verify", {"number": c.number, "name": c.name})
    assert api.status_code == 429 and c.name not in api.content.decode()
    verification.flush_log()
    assert list(VerificationLog.objects.order_by("pk").values_list("answer", flat=True)) == [
        "valid",
        "valid",
        "limited",
        "valid",
        "limited",
    ]
    assert VerificationLog.objects.filter(answer="limited", certificate__isnull=False).count() == 0


@needs_redis
def test_rule_without_the_buffer_each_row_is_written_at_once(redis_cache, settings):
    settings.PORTAL_VERIFY_LOG_BUFFER = False
    c = issued(1)[0]
    Client().get(reverse("certificates:verify_token", args=[c.token]))
    assert VerificationLog.objects.get().answer == "valid" and redis_cache.llen(verification.LOG_KEY) == 0


def test_rule_a_dead_redis_still_answers_and_logs_every_lookup(settings, caplog):
    settings.CACHES = {
        "default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": "redis://127.0.0.1:9/0"}
    }
    settings.PORTAL_VERIFY_LOG_BUFFER = True
    c = issued(1)[0]
    response = Client().get(reverse("certificates:verify_token", args=[c.token]))
    assert response.status_code == 200 and c.name in response.content.decode()
    log = VerificationLog.objects.get()
    assert (log.channel, log.answer, log.certificate_id) == ("qr", "valid", c.pk)
    assert "Redis did not answer" in caplog.text
