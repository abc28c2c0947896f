"""City-scale data for measuring the portal (``manage.py seed_scale``).

Every app may add a ``scale.py`` with ``build(ctx: ScaleContext)``; ``seed_scale`` runs them in
INSTALLED_APPS order inside one transaction, so later stages (batches, certificates, oversight)
add their rows on top of the earlier ones without the portal importing them. Parts write with
``bulk_create`` and skip history rows: this is load for benchmarks, not a record of anyone's work.

Each run is one *batch* (numbered by the counter ``seed_scale:batch``): running the command again
adds another city's worth of rows with distinct names, codes and ID numbers.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import random
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

from django.contrib.auth.hashers import make_password
from django.db import models
from django.utils import timezone

from portal.demo import GIVEN, SURNAMES
from portal.models import Organisation, OrganisationKind, Role, User, UserRole

SCALE_EMAIL_DOMAIN = "scale.invalid"

# Authorities the workflow needs as actors, by role: the organisation kind and the name
# ``seed_demo`` gives it, so that a city seeded after the demo reuses the demo's bodies.
AUTHORITIES: dict[str, tuple[str, str]] = {
    Role.CENTRE_REVIEWER: (OrganisationKind.CENTRE, "上海市职业技能鉴定中心"),
    Role.COMMISSION_OFFICER: (OrganisationKind.COMMISSION, "上海市教育委员会"),
    Role.COMMISSION_DEPT_OFFICER: (OrganisationKind.COMMISSION_DEPT, "上海市教育委员会职业教育处（受委托职能部门）"),
    Role.MUNICIPAL_HR_OFFICER: (OrganisationKind.MUNICIPAL_HR, "上海市人力资源和社会保障局"),
}


@dataclass
class ScaleSize:
    """How big a batch is. The defaults are the city: 120 schools, 3,000 majors, 150,000 students."""

    schools: int = 120
    majors_per_school: int = 25
    students_per_school: int = 1250
    occupations_per_institution: int = 10
    experts: int = 40

    @classmethod
    def scaled(cls, factor: float) -> ScaleSize:
        base = cls()
        return cls(
            schools=max(2, round(base.schools * factor)),
            majors_per_school=max(2, round(base.majors_per_school * min(1.0, factor * 4))),
            students_per_school=max(4, round(base.students_per_school * factor)),
            occupations_per_institution=base.occupations_per_institution,
            experts=max(5, round(base.experts * min(1.0, factor * 4))),
        )


@dataclass
class ScaleContext:
    batch: int
    size: ScaleSize
    today: dt.date = field(default_factory=timezone.localdate)
    rng: random.Random = field(default_factory=lambda: random.Random(20260101))
    log: callable = print
    # What earlier parts built, for later parts: "schools", "majors_by_school", "experts", ...
    built: dict = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    _actors: dict[str, User] = field(default_factory=dict)
    _started: float = field(default_factory=time.monotonic)

    def __post_init__(self) -> None:
        self.rng.seed(20260101 + self.batch)

    def person_name(self) -> str:
        given = "".join(self.rng.choice(GIVEN) for _ in range(self.rng.choice((1, 2))))
        return self.rng.choice(SURNAMES) + given

    def note(self, label: str, count: int) -> None:
        self.counts[label] = self.counts.get(label, 0) + count
        self.log(f"    {label}: {count:,} ({time.monotonic() - self._started:.1f} s)")

    def actor(self, role: str) -> User:
        """An active user holding ``role`` (a demo login when there is one), else a scale user."""
        if role not in self._actors:
            user = User.objects.filter(is_active=True, roles__role=role).order_by("pk").first()
            if user is None:
                kind, name = AUTHORITIES[role]
                org = Organisation.objects.filter(kind=kind).order_by("pk").first()
                if org is None:
                    org = Organisation.objects.create(kind=kind, name=name)
                user = self.new_user(f"scale-{role}", organisation=org, role=role)
            self._actors[role] = user
        return self._actors[role]

    def new_user(self, username: str, *, organisation: Organisation, role: str) -> User:
        """A login that cannot sign in (unusable password): an actor in the seeded history."""
        user = User.objects.create(
            username=username,
            organisation=organisation,
            full_name=self.person_name(),
            email=f"{username}@{SCALE_EMAIL_DOMAIN}",
            password=make_password(None),
        )
        UserRole.objects.create(user=user, role=role)
        return user

    def moment(self, day: dt.date, hour: int = 10) -> dt.datetime:
        return timezone.make_aware(dt.datetime.combine(day, dt.time(hour, self.rng.randrange(60))))


@contextlib.contextmanager
def given_timestamps(*model_classes: type[models.Model]) -> Iterator[None]:
    """Lets bulk_create keep the dates the seed chose instead of "now" (auto_now/auto_now_add off)."""
    saved = []
    for model in model_classes:
        for f in model._meta.concrete_fields:
            if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
                saved.append((f, f.auto_now, f.auto_now_add))
                f.auto_now = f.auto_now_add = False
    try:
        yield
    finally:
        for f, auto_now, auto_now_add in saved:
            f.auto_now, f.auto_now_add = auto_now, auto_now_add


def build(ctx: ScaleContext) -> None:
    """The authorities that act in the seeded workflow, and a pool of experts for the panels."""
    for role in AUTHORITIES:
        ctx.actor(role)
    pool = Organisation.objects.filter(kind=OrganisationKind.EXPERT_POOL).order_by("pk").first()
    if pool is None:
        pool = Organisation.objects.create(kind=OrganisationKind.EXPERT_POOL, name="上海市职业技能评价专家库")
    existing = list(User.objects.filter(is_active=True, roles__role=Role.EXPERT).order_by("pk"))
    hashed = make_password(None)
    new = [
        User(
            username=f"scale{ctx.batch}-expert-{n}",
            organisation=pool,
            full_name=ctx.person_name(),
            email=f"scale{ctx.batch}-expert-{n}@{SCALE_EMAIL_DOMAIN}",
            password=hashed,
        )
        for n in range(1, max(0, ctx.size.experts - len(existing)) + 1)
    ]
    User.objects.bulk_create(new)
    new = list(User.objects.filter(username__startswith=f"scale{ctx.batch}-expert-"))
    UserRole.objects.bulk_create([UserRole(user=u, role=Role.EXPERT) for u in new])
    ctx.built["experts"] = existing + new
    ctx.note("experts", len(new))
