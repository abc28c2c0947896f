"""Demo data: organisations and one login per role per organisation.

Every app may add a ``demo.py`` with ``build(ctx: DemoContext)``; ``seed_demo`` runs them in
INSTALLED_APPS order, so later stages build on earlier ones without the portal importing them.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from functools import cached_property

from django.conf import settings
from django.contrib.auth.hashers import make_password

from portal.models import District, Organisation, OrganisationKind, Role, User, UserRole
from portal.services import record

DEMO_EMAIL_DOMAIN = "demo.invalid"

DISTRICT_SLUGS = {
    "310101": "huangpu",
    "310104": "xuhui",
    "310105": "changning",
    "310106": "jingan",
    "310107": "putuo",
    "310109": "hongkou",
    "310110": "yangpu",
    "310112": "minhang",
    "310113": "baoshan",
    "310114": "jiading",
    "310115": "pudong",
    "310116": "jinshan",
    "310117": "songjiang",
    "310118": "qingpu",
    "310120": "fengxian",
    "310151": "chongming",
}

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈"
GIVEN = "子涵欣怡梓萱一诺浩然宇轩俊杰思远雨桐佳怡晨曦嘉豪博文天佑诗琪明轩若曦志强伟杰静怡晓峰海洋雅琴可馨建华立新"


@dataclass
class DemoContext:
    password: str
    rng: random.Random = field(default_factory=lambda: random.Random(20221102))
    organisations: dict[str, Organisation] = field(default_factory=dict)
    users: dict[str, User] = field(default_factory=dict)

    @cached_property
    def password_hash(self) -> str:
        """Hashed once: every demo login shares the demo password."""
        return make_password(self.password)

    def person_name(self) -> str:
        given = "".join(self.rng.choice(GIVEN) for _ in range(self.rng.choice((1, 2))))
        return self.rng.choice(SURNAMES) + given

    def org(self, key: str, *, kind: str, name: str, short_name: str = "", district: District | None = None):
        org, _created = Organisation.objects.get_or_create(
            name=name, defaults={"kind": kind, "short_name": short_name, "district": district}
        )
        self.organisations[key] = org
        return org

    def user(self, username: str, *, organisation: Organisation, roles: list[str], full_name: str = "") -> User:
        user = User.objects.filter(username=username).first()
        if user is None:
            user = User(
                username=username,
                organisation=organisation,
                full_name=full_name or self.person_name(),
                email=f"{username}@{DEMO_EMAIL_DOMAIN}",
            )
            user.password = self.password_hash
            record(user, actor=None, reason="演示数据")
            user.save()
        for role in roles:
            UserRole.objects.get_or_create(user=user, role=role)
        self.users[username] = user
        return user


def build(ctx: DemoContext) -> None:
    """Authorities of the city, the 16 district bureaus and the expert pool, with their logins."""
    centre = ctx.org("centre", kind=OrganisationKind.CENTRE, name="上海市职业技能鉴定中心", short_name="市职鉴中心")
    ctx.user("centre-reviewer", organisation=centre, roles=[Role.CENTRE_REVIEWER])
    admin = ctx.user("centre-admin", organisation=centre, roles=[Role.SYSTEM_ADMIN])
    if not admin.is_staff:
        admin.is_staff = admin.is_superuser = True
        admin.save(update_fields=["is_staff", "is_superuser"])
    commission = ctx.org("commission", kind=OrganisationKind.COMMISSION, name="上海市教育委员会", short_name="市教委")
    ctx.user("commission", organisation=commission, roles=[Role.COMMISSION_OFFICER])
    dept = ctx.org(
        "commission_dept",
        kind=OrganisationKind.COMMISSION_DEPT,
        name="上海市教育委员会职业教育处（受委托职能部门）",
        short_name="市教委职能部门",
    )
    ctx.user("commission-dept", organisation=dept, roles=[Role.COMMISSION_DEPT_OFFICER])
    hr = ctx.org(
        "municipal_hr", kind=OrganisationKind.MUNICIPAL_HR, name="上海市人力资源和社会保障局", short_name="市人社局"
    )
    ctx.user("hr-bureau", organisation=hr, roles=[Role.MUNICIPAL_HR_OFFICER])
    ctx.user("hr-supervisor", organisation=hr, roles=[Role.QUALITY_SUPERVISOR])
    for district in District.objects.all():
        slug = DISTRICT_SLUGS[district.code]
        bureau = ctx.org(
            f"district_{district.code}",
            kind=OrganisationKind.DISTRICT_HR,
            name=f"{district.name}人力资源和社会保障局",
            short_name=f"{district.name}人社局",
            district=district,
        )
        ctx.user(f"{slug}-hr", organisation=bureau, roles=[Role.DISTRICT_HR_OFFICER])
    pool = ctx.org(
        "expert_pool", kind=OrganisationKind.EXPERT_POOL, name="上海市职业技能评价专家库", short_name="专家库"
    )
    for n in range(1, 6):
        ctx.user(f"expert-{n}", organisation=pool, roles=[Role.EXPERT])
    ctx.user("supervisor", organisation=pool, roles=[Role.QUALITY_SUPERVISOR])


def demo_users():
    return (
        User.objects.filter(email__endswith=f"@{DEMO_EMAIL_DOMAIN}")
        .select_related("organisation")
        .prefetch_related("roles")
        .order_by("organisation__kind", "organisation__name", "username")
    )


def default_password() -> str:
    return settings.DEMO_PASSWORD


HINT_LENGTH = 120


def login_hint(user) -> str:
    """One line: what this login finds waiting, read from its home page (the panels of every app).

    The first item of each panel, e.g. ``备案申请待办：上海市松云航运职业学校（待受理）；未读通知：……``.
    Computed from the data, so it stays true as the demo data changes; in the active language.
    """
    from django.utils.translation import gettext as _

    from portal.home import panels_for

    parts = []
    for panel in panels_for(user):
        if not panel.items:
            continue
        first = panel.items[0]
        note = first.badge or first.meta
        text = f"{panel.title}：{first.label}" + (f"（{note}）" if note else "")
        if len(panel.items) > 1:
            text += _("等%(n)s项") % {"n": len(panel.items)}
        parts.append(text)
    text = "；".join(parts) or _("暂无待办事项。")
    return text if len(text) <= HINT_LENGTH else text[: HINT_LENGTH - 1] + "…"
