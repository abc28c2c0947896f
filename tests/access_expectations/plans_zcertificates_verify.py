"""Public certificate verification: /verify/ (forms, QR link, PDF upload), the employers' JSON API
and its OpenAPI schema — every URL as every role and as an anonymous visitor, GET and POST.

All of it is public: every role and anonymous visitors get the same answers. A lookup writes one
row to the verification log, so a POST that looks something up is ``Writes(200)``; a form sent
back incomplete writes nothing. The QR link, the API and the schema are GET only (405); the API
without its parameters is the clear 400 (not counted, not logged).
"""

from __future__ import annotations

from django.core.files.uploadedfile import SimpleUploadedFile

from portal.models import Role
from tests.access_expectations import ANON, READ_ONLY, Post, Writes


def _all(code: int) -> dict[str, int]:
    return {**{r: code for r in Role.values}, ANON: code}


def build_objects(objects: dict, people: dict) -> dict:
    from tests.certificates.test_verify_builders import issued

    certificate = issued(1)[0]
    return {"verify_certificate": certificate, "verify_token": {"token": certificate.token}}


def _by_number(objects: dict) -> dict:
    c = objects["verify_certificate"]
    return {"by": "number", "number-number": c.number, "number-name": c.name}


def _upload(objects: dict) -> dict:
    return {"file": SimpleUploadedFile("证书.pdf", b"%PDF-1.7\n% not a signed certificate\n%%EOF\n")}


EXPECTATIONS = {
    "certificates:verify": (None, _all(200)),
    "certificates:verify_token": ("verify_token", _all(200)),
    "certificates:verify_upload": (None, _all(200)),
    "certificates:api_verify": (None, _all(400)),
    "api_schema": (None, _all(200)),
    "api_docs": (None, _all(200)),
}

POST_EXPECTATIONS = {
    "certificates:verify": [
        Post(None, _all(Writes(200)), data=_by_number, note="a lookup: logged"),
        Post(None, _all(200), data={"by": "number"}, note="incomplete: the form again, nothing looked up"),
    ],
    "certificates:verify_token": READ_ONLY,
    "certificates:verify_upload": [
        Post(None, _all(Writes(200)), data=_upload, note="checked and logged (not genuine)"),
        Post(None, _all(200), note="no file: the form again"),
    ],
    "certificates:api_verify": READ_ONLY,
    "api_schema": READ_ONLY,
    "api_docs": READ_ONLY,
}
