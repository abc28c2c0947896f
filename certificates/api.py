"""The employers' JSON verification API (issue 9 §7): read-only, no login, no session, the same
rules, log and rate limit as the public page (``certificates.services.verification``).

``GET /api/v1/certificates/verify?number=…&name=…`` or ``?id_number=…&name=…``::

    200 {"found": true, "status": "valid"|"revoked"|"superseded", "name", "occupation", "work_type",
         "level", "institution", "issued_on", "masked_id_number", "revoked_at", "revoked_reason",
         "superseded_by", "certificates": [...]}
    404 the same keys, "found": false, "status": "not_found", every field null; a wrong name for a
        real number answers exactly as an unknown number
    400 {"error": "...", "field": "..."}   bad input (not counted against the rate limit)
    429 {"error": "..."}                   too many lookups from this client address

For an ID number, ``certificates`` lists every certificate issued to that person under that name
(most recent first) and the top-level fields describe the first. The OpenAPI schema is at
/api/schema/ (browsable at /api/schema/ui/).
"""

from __future__ import annotations

from django.urls import path
from django.utils.decorators import method_decorator
from django.views.decorators.cache import never_cache
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from certificates.models import Channel
from certificates.services import verification
from portal.access import public

LIMITED = "查询过于频繁，请稍后再试。/ Too many lookups: please try again later."


class CertificateSerializer(serializers.Serializer):
    name = serializers.CharField(help_text="姓名 / Name as printed")
    occupation = serializers.CharField(help_text="职业名称 / Occupation")
    work_type = serializers.CharField(help_text='工种/职业方向 / Work type, "--" if none')
    level = serializers.CharField(help_text="等级 / Level, e.g. 三级/高级工")
    institution = serializers.CharField(help_text="评价机构 / Evaluation institution")
    issued_on = serializers.DateField(help_text="发证日期 / Issue date")
    status = serializers.ChoiceField(choices=["valid", "revoked", "superseded"])
    masked_id_number = serializers.CharField(help_text="证件号码（部分隐藏）/ Masked ID number")
    revoked_at = serializers.DateTimeField(allow_null=True, help_text="撤销时间 / When revoked")
    revoked_reason = serializers.CharField(allow_null=True, help_text="撤销原因 / Why revoked")
    superseded_by = serializers.CharField(allow_null=True, help_text="更正后新证书编号 / The successor's number")


class VerificationSerializer(serializers.Serializer):
    found = serializers.BooleanField()
    status = serializers.ChoiceField(choices=["valid", "revoked", "superseded", "not_found"])
    name = serializers.CharField(allow_null=True)
    occupation = serializers.CharField(allow_null=True)
    work_type = serializers.CharField(allow_null=True)
    level = serializers.CharField(allow_null=True)
    institution = serializers.CharField(allow_null=True)
    issued_on = serializers.DateField(allow_null=True)
    masked_id_number = serializers.CharField(allow_null=True)
    revoked_at = serializers.DateTimeField(allow_null=True)
    revoked_reason = serializers.CharField(allow_null=True)
    superseded_by = serializers.CharField(allow_null=True)
    certificates = CertificateSerializer(many=True)


ERROR = inline_serializer("VerificationError", {"error": serializers.CharField(), "field": serializers.CharField()})


def _error(status: int, message: str, **extra) -> Response:
    return Response({"error": message, **extra}, status=status)


@method_decorator(never_cache, name="dispatch")
class VerifyCertificate(APIView):
    """Verifies one certificate by its number, or a person's certificates by ID number, with the name."""

    authentication_classes: list = []
    permission_classes: list = []

    @extend_schema(
        operation_id="certificates_verify",
        summary="核验职业技能等级证书 / Verify a skill-level certificate",
        description=(
            "按证书编号+姓名，或证件号码+姓名核验。姓名不符与编号不存在的回答完全相同（404）。"
            " By certificate number and name, or ID number and name. A wrong name answers exactly as an"
            " unknown number (404). Rate-limited per client address (429)."
        ),
        parameters=[
            OpenApiParameter("number", OpenApiTypes.STR, description="证书编号 / Certificate number (22 characters)"),
            OpenApiParameter("id_number", OpenApiTypes.STR, description="证件号码 / ID number (instead of number)"),
            OpenApiParameter("name", OpenApiTypes.STR, required=True, description="姓名 / Name as printed"),
        ],
        responses={200: VerificationSerializer, 404: VerificationSerializer, 400: ERROR, 429: ERROR},
        tags=["certificates"],
    )
    def get(self, request: Request) -> Response:
        number = request.query_params.get("number", "").strip()
        id_number = request.query_params.get("id_number", "").strip()
        name = request.query_params.get("name", "").strip()
        if not number and not id_number:
            return _error(
                400,
                "缺少参数number（证书编号）或id_number（证件号码）。/ Give number or id_number.",
                field="number",
            )
        if number and id_number:
            return _error(
                400, "number与id_number只能给出一个。/ Give number or id_number, not both.", field="id_number"
            )
        if not name:
            return _error(400, "缺少参数name（姓名）。/ Missing parameter name.", field="name")
        if len(number) > 30 or len(id_number) > 30 or len(name) > 50:
            return _error(400, "参数过长。/ A parameter is too long.", field="number" if number else "id_number")
        if number:
            asked = verification.asked_number(number)
            find = lambda: verification.by_number(number, name)  # noqa: E731
        else:
            asked = verification.asked_id_number(id_number)
            find = lambda: verification.by_id_number(id_number, name)  # noqa: E731
        answer = verification.lookup(request._request, channel=Channel.API, asked=asked, find=find)
        if answer is None:
            response = _error(429, LIMITED)
            response["Retry-After"] = "60"
            return response
        return Response(answer.as_json(), status=200 if answer.found else 404)


verify_certificate = public(VerifyCertificate.as_view())

urlpatterns = [
    path("api/v1/certificates/verify", verify_certificate, name="api_verify"),
]
