"""Complaints (/oversight/complaints/…): the public form, its receipt and the status lookup, and the
centre's triage — every URL as every role and as an anonymous visitor, GET and POST.

The form, the receipt and the lookup are public: every role and anonymous visitors get the same
answers. A complaint sent writes (its row, its event, the counter, the centre's notifications); a
bot's (the honeypot filled) is answered alike and writes nothing; a lookup writes nothing. The
centre's reviewers triage; the municipal HR bureau and the district bureau of the institution's
district read (403 on a step); a district bureau gets 404 for another district's complaint.
"""

from __future__ import annotations

from portal.models import Role
from tests.access_expectations import ANON, READ_ONLY, Post, Writes

CENTRE = Role.CENTRE_REVIEWER.value
MUNICIPAL = Role.MUNICIPAL_HR_OFFICER.value
DISTRICT = Role.DISTRICT_HR_OFFICER.value
READERS = {CENTRE, MUNICIPAL, DISTRICT}


def _all(code: int) -> dict[str, int]:
    return {**{r: code for r in Role.values}, ANON: code}


def _for(ok: int, roles: set[str], other: int = 403, **codes: int) -> dict[str, int]:
    return {**{r: (ok if r in roles else other) for r in Role.values}, **codes, ANON: 302}


def build_objects(objects: dict, people: dict) -> dict:
    from oversight.services import complaints as service
    from oversight.views.complaints import _receipt_url

    def sent(institution):
        return service.complaint_submit(
            complainant_kind="parent", contact="13800001111", body="考场秩序混乱。", institution=institution
        )

    mine, other = sent(objects["institution"]), sent(objects["other_institution"])
    token = _receipt_url(mine.number).rstrip("/").rsplit("/", 1)[1]
    return {"complaint": mine, "other_complaint": other, "complaint_receipt": {"token": token}}


def _form(objects: dict, **over) -> dict:
    return {
        "complainant_kind": "student",
        "contact": "13900002222",
        "institution": objects["institution"].pk,
        "about": "焊工四级",
        "body": "监考人员离开考场。",
        **over,
    }


# The form sends everyone (and a bot, whose complaint is not stored) on to a receipt, not to the login page.
ANON_REDIRECTS_ELSEWHERE = {"oversight:complaint_new"}

EXPECTATIONS = {
    "oversight:complaint_new": (None, _all(200)),
    "oversight:complaint_receipt": ("complaint_receipt", _all(200)),
    "oversight:complaint_status": (None, _all(200)),
    "oversight:complaint_list": (None, _for(200, READERS)),
    "oversight:complaint_export": (None, _for(200, READERS)),
    "oversight:complaint_detail": ("complaint", _for(200, READERS)),
}

OUT_OF_SCOPE = {
    "oversight:complaint_detail": ("other_complaint", _for(200, READERS, **{DISTRICT: 404})),
}


def _lookup(objects: dict) -> dict:
    c = objects["complaint"]
    return {"number": c.number, "contact": c.contact}


POST_EXPECTATIONS = {
    "oversight:complaint_new": [
        Post(None, _all(Writes(302)), data=lambda o: _form(o), note="sent: numbered, stored, the centre told"),
        Post(None, _all(302), data=lambda o: _form(o, website="http://x.example"), note="honeypot: nothing stored"),
        Post(None, _all(200), data=lambda o: _form(o, contact=""), note="incomplete: the form again"),
    ],
    "oversight:complaint_receipt": READ_ONLY,
    "oversight:complaint_status": [
        Post(None, _all(200), data=_lookup, note="a lookup writes nothing"),
    ],
    "oversight:complaint_list": READ_ONLY,
    "oversight:complaint_export": READ_ONLY,
    "oversight:complaint_detail": [
        Post(
            "complaint", _for(403, set(), **{CENTRE: Writes(302)}), data={"action": "close", "close-answer": "已核查"}
        ),
        Post(
            "complaint",
            _for(403, set(), **{CENTRE: Writes(302)}),
            data=lambda o: {
                "action": "open_case",
                "case-institution": o["institution"].pk,
                "case-title": "考场秩序",
                "case-facts": "家长反映考场秩序混乱。",
            },
        ),
        Post(
            "other_complaint",
            _for(403, set(), **{CENTRE: Writes(302), DISTRICT: 404}),
            data={"action": "close", "close-answer": "x"},
        ),
        Post("complaint", _for(404, READERS), data={"action": "delete"}, note="no such step"),
    ],
}
