"""Staff pages cost a fixed number of queries whatever the size of the city, and a logged-in
request does not write its session every time (idle expiry still works)."""

from __future__ import annotations

import datetime as dt
import time

import pytest
from django.core.management import call_command
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from portal.models import Role
from portal.sessions import REFRESHED_AT
from schools.models import School, Student
from tests import factories
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

STAFF_ROLES = (
    Role.CENTRE_REVIEWER,
    Role.COMMISSION_OFFICER,
    Role.COMMISSION_DEPT_OFFICER,
    Role.MUNICIPAL_HR_OFFICER,
)
PAGES = ("home", "schools:school_list", "institutions:application_list", "registry:institution_list", "directory")


@pytest.fixture
def seeding(settings):
    settings.DEMO_DATA_ALLOWED = True

    def seed(factor: float) -> None:
        call_command("seed_scale", factor=factor, no_analyze=True, stdout=open("/dev/null", "w"))  # noqa: SIM115

    return seed


def _counts(clients) -> dict[tuple[str, str], int]:
    out = {}
    for role, client in clients.items():
        for name in PAGES:
            with CaptureQueriesContext(connection) as queries:
                response = client.get(reverse(name))
            assert response.status_code == 200, (role, name)
            out[(role, name)] = len(queries)
    return out


def test_staff_pages_cost_the_same_queries_for_a_bigger_city(seeding):
    clients = {role: client_for(factories.user(role)) for role in STAFF_ROLES}
    for client in clients.values():
        client.get(reverse("home"))  # the first request after login stamps the session
    seeding(0.02)
    small_city = School.objects.count(), Student.objects.count()
    small = _counts(clients)
    seeding(0.1)
    assert School.objects.count() > 5 * small_city[0] and Student.objects.count() > 10 * small_city[1]
    big = _counts(clients)
    grew = {key: (small[key], big[key]) for key in small if big[key] > small[key]}
    assert grew == {}
    assert max(v for (_role, name), v in big.items() if name != "home") <= 12
    # The home page also carries the role's dashboard: one count per list it links to, the lists of one
    # small table in one query (oversight.selectors.dashboards.resolve).
    assert max(v for (_role, name), v in big.items() if name == "home") <= 20


def test_the_school_list_counts_each_relation_on_its_own(seeding):
    seeding(0.02)
    client = client_for(factories.user(Role.CENTRE_REVIEWER))
    with CaptureQueriesContext(connection) as queries:
        html = client.get(reverse("schools:school_list")).content.decode()
    school = School.objects.order_by("pk").last()
    assert school.name in html
    counted = [q["sql"] for q in queries if "schools_student" in q["sql"]]
    assert len(counted) == 1 and "DISTINCT" not in counted[0].upper()


def test_the_seeded_city_has_every_state_and_valid_identifiers(seeding):
    from institutions.models import ApplicationStatus, FilingApplication, Institution
    from portal.validators import validate_resident_id_number, validate_uscc

    seeding(0.05)
    states = set(FilingApplication.objects.values_list("status", flat=True))
    assert states == set(ApplicationStatus.values)
    assert Institution.objects.count() == School.objects.count() == 6
    for school in School.objects.all():
        validate_uscc(school.uscc)
    for number in Student.objects.values_list("id_number", flat=True)[:500]:
        validate_resident_id_number(number)
    seeding(0.05)  # a second run adds another batch
    assert School.objects.count() == 12


def test_a_logged_in_request_does_not_write_its_session(people):
    client = client_for(people[Role.CENTRE_REVIEWER])
    client.get(reverse("notification_list"))  # stamps the session once after login
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("notification_list")).status_code == 200
    sql = [q["sql"] for q in queries]
    assert not [s for s in sql if s.startswith(("UPDATE", "INSERT")) and "django_session" in s]
    # Before the view: the session, the user with their organisation, their roles, the unread count.
    assert sum("django_session" in s for s in sql) == 1
    assert not [s for s in sql if s.startswith("SELECT") and '"portal_organisation"' in s.split("FROM")[1][:40]]
    assert len(sql) <= 6


def test_an_active_session_is_extended_and_an_idle_one_still_expires(people, settings):
    from django.contrib.sessions.models import Session

    client = client_for(people[Role.CENTRE_REVIEWER])
    client.get(reverse("home"))
    session = client.session
    session[REFRESHED_AT] = int(time.time()) - settings.SESSION_COOKIE_AGE // 2
    session.save()
    before = timezone.now() + dt.timedelta(minutes=60)  # as if written an hour ago
    Session.objects.filter(pk=session.session_key).update(expire_date=before)
    client.get(reverse("home"))
    after = Session.objects.get(pk=session.session_key).expire_date
    assert after > before
    Session.objects.filter(pk=session.session_key).update(expire_date=after.replace(year=2000))
    response = client.get(reverse("home"))
    assert response.status_code == 302 and reverse("login") in response["Location"]


def test_the_home_panel_counts_only_the_graduating_students_of_the_schools_it_shows(school, people):
    major = factories.major(school)
    on = timezone.localdate()
    graduating = on.replace(month=6, day=30) if on.month < 9 else on.replace(year=on.year + 1, month=6, day=30)
    for n in range(3):
        factories.student(major, n=n, graduation=graduating)
    factories.student(major, n=3, graduation=graduating + dt.timedelta(days=400))
    client = client_for(people[Role.CENTRE_REVIEWER])
    with CaptureQueriesContext(connection) as queries:
        html = client.get(reverse("home")).content.decode()
    assert school.name in html
    panel = html.split("全市学校（毕业学年学生数）")[1].split("</section>")[0]
    assert '<span class="badge text-bg-secondary">3</span>' in panel
    counted = [q["sql"] for q in queries if "schools_student" in q["sql"]]
    assert len(counted) == 1 and counted[0].count("schools_student") == 1 and "LIMIT 8" in counted[0]
