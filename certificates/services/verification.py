"""Public certificate verification (issue 9 §6–7): by number and name, by ID number and name, by the
QR code's token, and by an uploaded PDF; the same answers for the page and the JSON API.

What an answer shows is only what catches an edited PDF: name, occupation, 工种, level,
institution, issue date, status (revoked: when and why; superseded: the successor's number) and a
masked ID number. A wrong name for a real number answers exactly as an unknown number: the lookup
is one indexed query whatever was typed, and the name is compared in constant time against the
row found or a stand-in.

Every lookup is logged (``VerificationLog``): the channel, what was asked (the number, a masked ID
number, "token" or the PDF's SHA-256; never the name), the answer, and a salted SHA-256 of the
client address (django-ipware, as the login lockout). Lookups are rate-limited per client address
(django-ratelimit, ``PORTAL_VERIFY_RATE``), the page, QR link, upload and API together.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import logging
import re
import unicodedata
from dataclasses import asdict, dataclass, field

from django.conf import settings
from django.core.cache import caches
from django.core.cache.backends.redis import RedisCache
from django.db import connection, transaction
from django.http import HttpRequest
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django_ratelimit import ALL
from django_ratelimit import core as rl_core
from django_ratelimit.core import is_ratelimited
from redis.exceptions import RedisError

from certificates.models import Certificate, CertificateStatus, Channel, VerificationLog
from portal.security import client_ip
from schools.models import Level

NOT_FOUND = "not_found"
ALTERED = "altered"
NOT_A_PDF = "not_pdf"
LIMITED = "limited"

# One stand-in compared against when no row was found: the same work as a real comparison.
_STAND_IN = "\u0000" * 8
_SPACES = re.compile(r"[\s\u00b7\u30fb\u2022]+")  # spaces and the middle dots in transliterated names

# The columns an answer needs, read in the one query (the successor's number through its join).
FIELDS = (
    "pk",
    "number",
    "name",
    "id_number",
    "occupation_name",
    "work_type",
    "level",
    "institution_name",
    "issued_on",
    "status",
    "status_changed_at",
    "status_reason",
    "superseded_by__number",
)


# --- What was typed ---------------------------------------------------------------------


def normal_name(value: str) -> str:
    """A name as compared: full-width forms folded, spaces and middle dots dropped, case ignored."""
    return _SPACES.sub("", unicodedata.normalize("NFKC", value or "")).casefold()


def normal_number(value: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", value or "")).upper()


def normal_id_number(value: str) -> str:
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", value or "")).upper()


def mask_id_number(value: str) -> str:
    """3101**********123X: the first and last four characters, the rest starred."""
    n = value or ""
    return n[:4] + "*" * (len(n) - 8) + n[-4:] if len(n) > 8 else "*" * len(n)


def same_name(typed: str, printed: str | None) -> bool:
    """Constant-time comparison of the normalised names (a stand-in when there is no row)."""
    a = normal_name(typed).encode()
    b = normal_name(printed if printed is not None else _STAND_IN).encode()
    return hmac.compare_digest(a, b) and printed is not None and bool(a)


# --- Answers ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Found:
    """One certificate as the public sees it: nothing beyond these fields."""

    name: str
    occupation: str
    work_type: str
    level: int
    level_label: str
    institution: str
    issued_on: dt.date
    status: str
    status_label: str
    masked_id_number: str
    revoked_at: dt.datetime | None
    revoked_reason: str
    superseded_by: str
    pk: int = field(repr=False, compare=False)

    @property
    def is_valid(self) -> bool:
        return self.status == CertificateStatus.VALID

    def as_json(self) -> dict:
        data = asdict(self)
        data.pop("pk")
        data.pop("level_label")
        data.pop("status_label")
        data["level"] = self.level_label
        data["work_type"] = self.work_type or "--"
        data["issued_on"] = self.issued_on.isoformat()
        data["revoked_at"] = self.revoked_at.isoformat() if self.revoked_at else None
        data["revoked_reason"] = self.revoked_reason or None
        data["superseded_by"] = self.superseded_by or None
        return data


@dataclass(frozen=True)
class Answer:
    """The answer to one lookup: the certificates found (most recently issued first)."""

    certificates: tuple[Found, ...] = ()

    @property
    def found(self) -> bool:
        return bool(self.certificates)

    @property
    def first(self) -> Found | None:
        return self.certificates[0] if self.certificates else None

    @property
    def status(self) -> str:
        return self.first.status if self.first else NOT_FOUND

    def as_json(self) -> dict:
        """The API body: the same keys found or not (not found: every field null)."""
        empty = dict.fromkeys(
            (
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
            )
        )
        first = self.first.as_json() if self.first else {}
        body = {"found": self.found, "status": self.status, **empty}
        body.update({k: v for k, v in first.items() if k != "status"})
        body["certificates"] = [c.as_json() for c in self.certificates]
        return body


NOTHING = Answer()


def _found(row: dict) -> Found:
    status = row["status"]
    revoked = status == CertificateStatus.REVOKED
    return Found(
        pk=row["pk"],
        name=row["name"],
        occupation=row["occupation_name"],
        work_type=row["work_type"],
        level=row["level"],
        level_label=str(Level(row["level"]).label),
        institution=row["institution_name"],
        issued_on=row["issued_on"],
        status=status,
        status_label=str(CertificateStatus(status).label),
        masked_id_number=mask_id_number(row["id_number"]),
        revoked_at=row["status_changed_at"] if revoked else None,
        revoked_reason=row["status_reason"] if revoked else "",
        superseded_by=row["superseded_by__number"] or "" if status == CertificateStatus.SUPERSEDED else "",
    )


def _queryset(**lookup):
    return Certificate.objects.filter(**lookup).order_by("-issued_on", "-pk").values(*FIELDS)


# The public lookups (by token, number, ID number) run the SQL the ORM writes for ``_queryset``,
# compiled once per column: on PostgreSQL the driver already returns the values ``.values()``
# would (dates, aware datetimes, ints, text), and compiling the query cost ten times its
# execution (0.40 ms of CPU against 0.04 ms at a million certificates). Elsewhere: the ORM.
_SQL: dict[str, str] = {}


def _rows(**lookup) -> list[dict]:
    (column, value), *more = lookup.items()
    if connection.vendor != "postgresql" or more or column not in {"token", "number", "id_number"}:
        return list(_queryset(**lookup))
    sql = _SQL.get(column)
    if sql is None:
        sql, params = _queryset(**{column: "lookup-value"}).query.sql_with_params()
        if list(params) != ["lookup-value"]:
            return list(_queryset(**lookup))
        _SQL[column] = sql
    with connection.cursor() as cursor:
        cursor.execute(sql, [value])
        return [dict(zip(FIELDS, row, strict=True)) for row in cursor.fetchall()]


def by_number(number: str, name: str) -> Answer:
    """The certificate with this number, if the name is the one printed on it."""
    number = normal_number(number)
    rows = _rows(number=number) if 0 < len(number) <= 22 else []
    row = rows[0] if rows else None
    matches = same_name(name, row["name"] if row else None)
    return Answer((_found(row),)) if row is not None and matches else NOTHING


def by_id_number(id_number: str, name: str) -> Answer:
    """The certificates issued to this ID number under this name (a person may hold several)."""
    id_number = normal_id_number(id_number)
    rows = _rows(id_number=id_number) if 0 < len(id_number) <= 30 else []
    kept = [row for row in (rows or [None]) if same_name(name, row["name"] if row else None)]
    return Answer(tuple(_found(row) for row in kept))


def by_token(token: str) -> Answer:
    """The QR code's link: the token alone opens the result."""
    rows = _rows(token=token) if 0 < len(token) <= 64 else []
    return Answer((_found(rows[0]),)) if rows else NOTHING


# --- Uploaded PDFs ----------------------------------------------------------------------


@dataclass(frozen=True)
class PdfAnswer:
    """An uploaded file: a PDF at all, genuine and unaltered, and the record it belongs to."""

    is_pdf: bool
    genuine: bool
    answer: Answer = NOTHING
    sha256: str = ""
    detail: str = ""

    @property
    def status(self) -> str:
        if not self.is_pdf:
            return NOT_A_PDF
        if not self.genuine:
            return ALTERED
        return self.answer.status


def looks_like_pdf(data: bytes) -> bool:
    """Checked by content, whatever the name or declared type: the PDF header at the start."""
    return data.lstrip()[:5] == b"%PDF-"


def check_pdf(data: bytes) -> PdfAnswer:
    """Whether ``data`` is a genuine, unaltered certificate PDF of this portal, and its record's status.

    The signature is checked by ``certificates.services.documents.verify_pdf`` (PAdES: signed by
    the portal's issuing key, intact, covering the whole file) and the certificate it names must
    exist. Where that module is absent, the file must be byte for byte the one the portal issued
    (``Certificate.pdf_sha256``).
    """
    digest = hashlib.sha256(data).hexdigest()
    if not looks_like_pdf(data):
        return PdfAnswer(is_pdf=False, genuine=False, sha256=digest)
    try:
        from certificates.services.documents import verify_pdf
    except ImportError:  # no signature checker: the exact bytes the portal issued
        rows = _rows(pdf_sha256=digest)
        if not rows:
            return PdfAnswer(is_pdf=True, genuine=False, sha256=digest)
        return PdfAnswer(is_pdf=True, genuine=True, answer=Answer((_found(rows[0]),)), sha256=digest)
    verdict = verify_pdf(data)  # a PDF too damaged to read is reported altered, not "not a PDF"
    certificate = verdict.get("certificate")
    if not verdict.get("genuine") or certificate is None:
        # Unsigned, signed by another key, edited after signing, or signed by the portal yet no
        # record of it: none of these is a certificate to be trusted.
        return PdfAnswer(is_pdf=True, genuine=False, sha256=digest)
    rows = _rows(pk=certificate.pk)
    return PdfAnswer(is_pdf=True, genuine=bool(rows), answer=Answer(tuple(_found(r) for r in rows)), sha256=digest)


# --- Rate limit and log -----------------------------------------------------------------
#
# With Redis as the cache (production), one round trip per lookup: a Lua script counts the
# client's lookup in the same fixed window and key as django-ratelimit and, with
# ``PORTAL_VERIFY_LOG_BUFFER``, appends the log row to a Redis list (otherwise the row is written
# at once). ``flush_log`` (Celery beat every 10 s, and once ``LOG_FLUSH_AT`` rows wait) moves the
# rows into ``VerificationLog`` in bulk, with the time of the lookup. Without Redis (tests,
# ``make run``) the counter lives in the local cache and the row is written at once, as before.
# If Redis does not answer, the lookup is answered, its row is written straight to the database
# and the failure is logged: no lookup goes unlogged (nor counted, while Redis is down).

RATE_GROUP = "certificates.verify"
LOG_KEY = "certificates:verify:log"
LOG_FLUSHING_KEY = LOG_KEY + ":flushing"
LOG_LOCK_KEY = LOG_KEY + ":lock"
LOG_FLUSH_AT = 1000  # rows waiting in Redis that make a lookup ask for a flush at once
LOG_FLUSH_CHUNK = 2000  # rows moved and inserted per step

logger = logging.getLogger(__name__)

_COUNT_AND_LOG = """
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
local over = n > tonumber(ARGV[1])
local flag = 0
if over then flag = 1 end
if ARGV[5] ~= '1' then return {flag, 0} end
local row = ARGV[3]
if over then row = ARGV[4] end
return {flag, redis.call('RPUSH', KEYS[2], row)}
"""

# Moves up to ARGV[1] waiting rows to the "flushing" list and returns that whole list (rows left
# there by a flush that died before finishing come back first).
_TAKE = """
local rows = redis.call('LRANGE', KEYS[1], 0, tonumber(ARGV[1]) - 1)
if #rows > 0 then
  redis.call('RPUSH', KEYS[2], unpack(rows))
  redis.call('LTRIM', KEYS[1], #rows, -1)
end
return redis.call('LRANGE', KEYS[2], 0, -1)
"""


def _rate(group, request) -> str:
    return settings.PORTAL_VERIFY_RATE


def _client(group, request) -> str:
    return client_ip(request) or "unknown"


def redis_client():
    """The Redis client behind the default cache, or None when the cache is not Redis.

    Django's Redis cache builds a new client object on every call (0.14 ms); one is kept per
    cache instance (a thread's own), with the scripts registered on it."""
    backend = caches["default"]
    if not isinstance(backend, RedisCache):
        return None
    client = backend.__dict__.get("_verification_client")
    if client is None:
        client = backend._verification_client = backend._cache.get_client(LOG_KEY, write=True)
        client._verification_scripts = (client.register_script(_COUNT_AND_LOG), client.register_script(_TAKE))
    return client


def _rate_key(request) -> tuple[str, int, int]:
    """django-ratelimit's counter key for this client and window, as the cache stores it."""
    rate = settings.PORTAL_VERIFY_RATE
    count, period = rl_core._split_rate(rate)
    value = _client(RATE_GROUP, request)
    key = rl_core._make_cache_key(RATE_GROUP, rl_core._get_window(value, period), rate, value, ALL)
    return caches["default"].make_and_validate_key(key), count, period + rl_core.EXPIRATION_FUDGE


def limited(request: HttpRequest) -> bool:
    """Counts one lookup for the client; True once it is over ``PORTAL_VERIFY_RATE``."""
    return is_ratelimited(request, group=RATE_GROUP, key=_client, rate=_rate, increment=True)


def client_hash(request: HttpRequest) -> str:
    """A salted SHA-256 of the client address (never the address itself)."""
    return salted_hmac("certificates.verification.client", _client(None, request), algorithm="sha256").hexdigest()


def log(request: HttpRequest, *, channel: str, asked: str, answer: str, certificate_pk: int | None = None) -> None:
    VerificationLog.objects.create(
        channel=channel,
        asked=asked[:120],
        answer=answer,
        certificate_id=certificate_pk,
        client_hash=client_hash(request),
    )


def _row(at: str, channel: str, asked: str, answer: str, certificate_pk: int | None, client: str) -> str:
    return json.dumps([at, channel, asked[:120], answer, certificate_pk, client], separators=(",", ":"))


def _count_and_log(redis, request, *, channel: str, asked: str, answer: str, certificate_pk: int | None) -> bool:
    """One round trip: count the lookup, queue its log row (``limited`` if over); True if over."""
    key, count, expiry = _rate_key(request)
    at, client = timezone.now().isoformat(), client_hash(request)
    buffered = settings.PORTAL_VERIFY_LOG_BUFFER
    script = _scripts(redis)[0]
    over, waiting = script(
        keys=[key, LOG_KEY],
        args=[
            count,
            expiry,
            _row(at, channel, asked, answer, certificate_pk, client) if buffered else "",
            _row(at, channel, asked, LIMITED, None, client) if buffered else "",
            "1" if buffered else "0",
        ],
    )
    if not buffered:
        log(
            request,
            channel=channel,
            asked=asked,
            answer=LIMITED if over else answer,
            certificate_pk=None if over else certificate_pk,
        )
    elif waiting == LOG_FLUSH_AT:  # exactly one lookup asks; the beat task covers a lost message
        _ask_for_flush()
    return bool(over)


def _scripts(redis) -> tuple:
    return redis._verification_scripts


def _ask_for_flush() -> None:
    try:
        from certificates.tasks import flush_verification_log

        flush_verification_log.delay()
    except Exception:  # the broker is down: the beat task flushes when it is back
        logger.warning("verification log: could not queue a flush; the periodic flush will move the rows")


def flush_log(*, chunk: int = LOG_FLUSH_CHUNK) -> int:
    """Moves the lookups waiting in Redis into ``VerificationLog`` in bulk; returns how many.

    At least once: rows are moved to a "flushing" list in Redis, inserted in one transaction and
    only then dropped from Redis. A flush that dies in between leaves them there for the next one
    (a death after the commit and before the drop could insert those rows twice; none is lost).
    """
    redis = redis_client()
    if redis is None:
        return 0
    if not redis.set(LOG_LOCK_KEY, "1", nx=True, ex=300):
        return 0  # another flush is running
    take = _scripts(redis)[1]
    moved = 0
    try:
        while True:
            rows = take(keys=[LOG_KEY, LOG_FLUSHING_KEY], args=[chunk])
            if not rows:
                return moved
            _insert_rows([json.loads(r) for r in rows])
            redis.delete(LOG_FLUSHING_KEY)
            moved += len(rows)
    finally:
        redis.delete(LOG_LOCK_KEY)


def _insert_rows(rows: list[list]) -> None:
    table = connection.ops.quote_name(VerificationLog._meta.db_table)
    params = [
        (dt.datetime.fromisoformat(at), channel, asked, answer, pk, client)
        for at, channel, asked, answer, pk, client in rows
    ]
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} (at, channel, asked, answer, certificate_id, client_hash) "  # noqa: S608
            "VALUES (%s, %s, %s, %s, %s, %s)",
            params,
        )


def asked_number(number: str) -> str:
    return "number:" + normal_number(number)[:30]


def asked_id_number(id_number: str) -> str:
    return "id:" + mask_id_number(normal_id_number(id_number)[:30])


def lookup(request: HttpRequest, *, channel: str, asked: str, find) -> Answer | None:
    """Counts, looks up, logs: None when the client is over the rate limit (logged as limited).

    With Redis the lookup runs first and one script then counts it and queues its log row (the
    answer, or ``limited``): one round trip. A refused client's answer is never shown.
    """
    redis = redis_client()
    if redis is not None:
        answer = find()
        pk = answer.first.pk if answer.first else None
        try:
            over = _count_and_log(redis, request, channel=channel, asked=asked, answer=answer.status, certificate_pk=pk)
        except RedisError:
            logger.exception("verification: Redis did not answer; lookup not counted, log row written directly")
            log(request, channel=channel, asked=asked, answer=answer.status, certificate_pk=pk)
            return answer
        return None if over else answer
    if limited(request):
        log(request, channel=channel, asked=asked, answer=LIMITED)
        return None
    answer = find()
    log(
        request,
        channel=channel,
        asked=asked,
        answer=answer.status,
        certificate_pk=answer.first.pk if answer.first else None,
    )
    return answer


def lookup_pdf(request: HttpRequest, data: bytes) -> PdfAnswer | None:
    if limited(request):
        log(request, channel=Channel.UPLOAD, asked="pdf:" + hashlib.sha256(data).hexdigest(), answer=LIMITED)
        return None
    result = check_pdf(data)
    first = result.answer.first
    log(
        request,
        channel=Channel.UPLOAD,
        asked="pdf:" + result.sha256,
        answer=result.status,
        certificate_pk=first.pk if first else None,
    )
    return result
