"""Public certificate verification (issue 9 §6–7): the /verify/ page, the QR link and the JSON API.

Each rule is a test named after it: what the result shows and nothing more; a wrong name answers
as an unknown number; revoked never reads valid; superseded points to its successor; every lookup
is logged without the name and with a hashed client; lookups are rate-limited per client.
"""

from __future__ import annotations

import datetime as dt
import hashlib

import pytest
import time_machine
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from certificates.models import VerificationLog
from certificates.services import verification
from tests.certificates.test_verify_builders import issued, revoke, supersede

pytestmark = pytest.mark.django_db

PAGE = "/verify/"
API = "/api/v1/certificates/verify"


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def certs():
    return issued(2)


def by_number(number, name, client=None):
    return (client or Client()).post(PAGE, {"by": "number", "number-number": number, "number-name": name})


def by_id(id_number, name, client=None):
    return (client or Client()).post(PAGE, {"by": "id", "id-id_number": id_number, "id-name": name})


def api(client=None, **params):
    return (client or Client()).get(API, params)


def text(response) -> str:
    return response.content.decode()


# --- The page ----------------------------------------------------------------------------


def test_the_verification_page_is_public_and_needs_no_session():
    response = Client().get(PAGE)
    assert response.status_code == 200
    assert "按证书编号查询" in text(response) and "按证件号码查询" in text(response)
    assert "sessionid" not in response.cookies
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]


def test_lookup_by_number_and_name_shows_only_what_catches_an_edited_pdf(certs):
    c = certs[0]
    response = by_number(c.number, c.name)
    assert response.status_code == 200
    body = text(response)
    for shown in (c.name, c.occupation_name, c.institution_name, "四级/中级工", "2026-12-15", "有效"):
        assert shown in body
    masked = c.id_number[:4] + "*" * (len(c.id_number) - 8) + c.id_number[-4:]
    assert masked in body
    assert c.id_number not in body  # never the full ID number
    assert c.token not in body
    assert certs[1].name not in body
    assert "sessionid" not in response.cookies
    assert "no-store" in response["Cache-Control"]


def test_work_type_reads_dashes_when_the_occupation_has_none(certs):
    c = certs[0]
    assert c.work_type == ""
    body = text(by_number(c.number, c.name))
    assert '<dd class="col-sm-9">--</dd>' in body


def test_the_name_is_compared_ignoring_spaces_and_full_width_forms(certs):
    c = certs[0]
    assert "有效" in text(by_number(" " + c.number.lower() + " ", c.name[0] + " " + c.name[1:]))


def test_lookup_by_id_number_and_name(certs):
    c = certs[0]
    body = text(by_id(c.id_number.lower(), c.name))
    assert c.name in body and "有效" in body and c.institution_name in body
    assert "未查到相符的证书" in text(by_id(c.id_number, certs[1].name))


def test_rule_a_wrong_name_answers_exactly_as_an_unknown_number(certs):
    c = certs[0]
    wrong = by_number(c.number, "王小明")
    unknown = by_number(c.number[:-6] + "999999", "王小明")
    assert wrong.status_code == unknown.status_code == 200
    assert wrong.content == unknown.content
    assert "未查到相符的证书" in text(wrong)
    # The same by ID number.
    assert by_id(c.id_number, "王小明").content == by_id("310101199001011234", "王小明").content
    # And by the API: 404, the same body.
    a, b = api(number=c.number, name="王小明"), api(number=c.number[:-6] + "999999", name="王小明")
    assert a.status_code == b.status_code == 404
    assert a.json() == b.json() and a.json()["found"] is False and a.json()["status"] == "not_found"


def test_rule_a_wrong_name_costs_the_same_single_query_as_an_unknown_number(certs, django_assert_num_queries):
    c = certs[0]
    with django_assert_num_queries(1):
        assert not verification.by_number(c.number, "王小明").found
    with django_assert_num_queries(1):
        assert not verification.by_number("Y" * 22, "王小明").found
    with django_assert_num_queries(1):
        assert verification.by_number(c.number, c.name).found


def test_rule_a_revoked_certificate_says_revoked_when_and_why_and_never_valid(certs):
    c = revoke(certs[0], reason="考生提供的身份信息不实")
    body = text(by_number(c.number, c.name))
    assert "已撤销" in body and "考生提供的身份信息不实" in body
    assert c.status_changed_at.astimezone(dt.timezone(dt.timedelta(hours=8))).strftime("%Y-%m-%d") in body
    assert ">有效<" not in body and "text-bg-success" not in body
    body = text(Client().get(reverse("certificates:verify_token", args=[c.token])))
    assert "已撤销" in body and "text-bg-success" not in body
    data = api(number=c.number, name=c.name).json()
    assert data["found"] is True and data["status"] == "revoked"
    assert data["revoked_reason"] == "考生提供的身份信息不实" and data["revoked_at"]


def test_rule_a_superseded_certificate_points_to_its_successor(certs):
    old = certs[0]
    new = supersede(old, name=old.name)
    old.refresh_from_db()
    body = text(by_number(old.number, old.name))
    assert "已更正" in body and new.number in body and "text-bg-success" not in body
    data = api(number=old.number, name=old.name).json()
    assert data["status"] == "superseded" and data["superseded_by"] == new.number
    # The successor itself is valid.
    assert api(number=new.number, name=new.name).json()["status"] == "valid"


def test_the_qr_link_opens_the_result_directly(certs):
    c = certs[0]
    url = reverse("certificates:verify_token", args=[c.token])
    assert url == f"/verify/t/{c.token}/"
    response = Client().get(url)
    assert response.status_code == 200
    assert c.name in text(response) and "有效" in text(response)
    assert "no-store" in response["Cache-Control"]
    assert "未查到相符的证书" in text(Client().get(reverse("certificates:verify_token", args=["x" * 43])))


def test_the_qr_link_is_get_only(certs):
    assert Client().post(reverse("certificates:verify_token", args=[certs[0].token])).status_code == 405


# --- The API -----------------------------------------------------------------------------

KEYS = {
    "found",
    "status",
    "name",
    "occupation",
    "work_type",
    "level",
    "institution",
    "issued_on",
    "masked_id_number",
    "revoked_at",
    "revoked_reason",
    "superseded_by",
    "certificates",
}


def test_api_answers_by_number_and_name(certs):
    c = certs[0]
    response = api(number=c.number, name=c.name)
    assert response.status_code == 200
    data = response.json()
    assert set(data) == KEYS
    assert data["found"] is True and data["status"] == "valid"
    assert data["name"] == c.name and data["occupation"] == c.occupation_name and data["work_type"] == "--"
    assert data["level"] == "四级/中级工" and data["institution"] == c.institution_name
    assert data["issued_on"] == "2026-12-15"
    assert data["masked_id_number"] == c.id_number[:4] + "*" * (len(c.id_number) - 8) + c.id_number[-4:]
    assert data["revoked_at"] is None and data["superseded_by"] is None
    assert c.id_number not in response.content.decode()
    assert "no-store" in response["Cache-Control"]
    assert "sessionid" not in response.cookies


def test_api_answers_by_id_number_and_name(certs):
    c = certs[0]
    data = api(id_number=c.id_number, name=c.name).json()
    assert data["found"] is True and data["name"] == c.name and len(data["certificates"]) == 1


def test_api_not_found_has_the_same_keys(certs):
    response = api(number="Y" * 22, name="王小明")
    assert response.status_code == 404 and set(response.json()) == KEYS


def test_api_refuses_bad_input_with_400():
    assert api(name="王小明").status_code == 400
    assert api(number="X", id_number="Y", name="王小明").status_code == 400
    assert api(number="X").json()["field"] == "name"
    assert VerificationLog.objects.count() == 0  # nothing was looked up


def test_api_is_read_only(certs):
    assert Client().post(API, {"number": certs[0].number, "name": certs[0].name}).status_code == 405


def test_the_openapi_schema_is_served_and_lists_the_verify_endpoint():
    response = Client().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    assert "/api/v1/certificates/verify" in schema["paths"]
    operation = schema["paths"]["/api/v1/certificates/verify"]["get"]
    assert {p["name"] for p in operation["parameters"]} >= {"number", "id_number", "name"}
    assert {"200", "404", "429"} <= set(operation["responses"])


def test_the_browsable_api_page_uses_local_assets_only():
    response = Client().get("/api/schema/ui/")
    assert response.status_code == 200
    body = text(response)
    assert "swagger-ui-bundle.js" in body and "/static/drf_spectacular_sidecar/" in body
    assert "cdn" not in body.lower() and "<script>" not in body  # the CSP allows only our own scripts
    script = Client().get("/api/schema/ui/", {"script": ""})
    assert script.status_code == 200 and "SwaggerUIBundle" in text(script)


# --- Rate limit and log -------------------------------------------------------------------


def test_rule_lookups_are_rate_limited_per_client_with_a_chinese_message(certs, settings):
    settings.PORTAL_VERIFY_RATE = "3/m"
    c = certs[0]
    with time_machine.travel(dt.datetime(2026, 12, 20, 9, 0, 5, tzinfo=dt.UTC), tick=False):
        assert by_number(c.number, c.name).status_code == 200
        assert Client().get(reverse("certificates:verify_token", args=[c.token])).status_code == 200
        assert api(number=c.number, name=c.name).status_code == 200
        refused = by_number(c.number, c.name)
        assert refused.status_code == 429 and refused["Retry-After"] == "60"
        assert "查询次数过多" in text(refused) and c.name not in text(refused)
        refused_api = api(number=c.number, name=c.name)
        assert refused_api.status_code == 429 and "查询过于频繁" in refused_api.json()["error"]
        # Another client address is counted on its own.
        assert by_number(c.number, c.name, client=Client(REMOTE_ADDR="10.0.0.9")).status_code == 200
        # Showing the forms is not a lookup.
        assert Client().get(PAGE).status_code == 200
    with time_machine.travel(dt.datetime(2026, 12, 20, 9, 2, 5, tzinfo=dt.UTC), tick=False):
        assert by_number(c.number, c.name).status_code == 200  # a new minute
    assert VerificationLog.objects.filter(answer="limited").count() == 2


def test_rule_every_lookup_is_logged_without_the_name_and_with_a_hashed_client(certs):
    c = revoke(certs[0])
    by_number(c.number, c.name)
    by_number(c.number, "王小明")
    by_id(c.id_number, c.name)
    Client().get(reverse("certificates:verify_token", args=[c.token]))
    api(number=c.number, name=c.name)
    logs = list(VerificationLog.objects.order_by("pk"))
    assert [(log.channel, log.answer) for log in logs] == [
        ("page", "revoked"),
        ("page", "not_found"),
        ("page", "revoked"),
        ("qr", "revoked"),
        ("api", "revoked"),
    ]
    assert logs[0].asked == f"number:{c.number}" and logs[0].certificate_id == c.pk
    assert logs[1].certificate_id is None
    assert logs[2].asked == "id:" + c.id_number[:4] + "*" * (len(c.id_number) - 8) + c.id_number[-4:]
    assert logs[3].asked == "token"
    for log in logs:
        assert c.name not in log.asked and "王小明" not in log.asked and c.id_number not in log.asked
        assert len(log.client_hash) == 64 and log.at is not None
        assert log.client_hash != hashlib.sha256(b"127.0.0.1").hexdigest()  # salted
    assert len({log.client_hash for log in logs}) == 1
    Client(REMOTE_ADDR="10.0.0.9").get(reverse("certificates:verify_token", args=[c.token]))
    assert VerificationLog.objects.latest("pk").client_hash != logs[0].client_hash


def test_the_client_behind_the_proxy_is_the_one_hashed(certs, settings):
    settings.PORTAL_PROXY_COUNT = 1
    c = certs[0]
    url = reverse("certificates:verify_token", args=[c.token])
    Client(REMOTE_ADDR="10.0.0.1").get(url, HTTP_X_FORWARDED_FOR="1.2.3.4")
    Client(REMOTE_ADDR="10.0.0.1").get(url, HTTP_X_FORWARDED_FOR="5.6.7.8")
    first, second = VerificationLog.objects.order_by("pk")
    assert first.client_hash != second.client_hash


def test_anonymous_visitors_find_the_verification_page_in_the_navigation():
    body = text(Client().get("/directory/"))
    assert 'href="/verify/"' in body and "证书查询" in body
