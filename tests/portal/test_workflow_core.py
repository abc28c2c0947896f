"""The shared workflow core (portal.workflow), through the directory machine that uses it."""

from __future__ import annotations

import pytest
from django.core.exceptions import PermissionDenied
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import translation

from institutions import services
from institutions.models import InstitutionEvent, InstitutionStatus
from portal.i18n import shown
from portal.models import Role
from portal.workflow import Authority, Transition, TransitionError, Workflow, has_role
from tests import factories
from tests.institutions.builders import Cast

pytestmark = pytest.mark.django_db


@pytest.fixture
def filed():
    cast = Cast(factories.school())
    app, _receipt = cast.filed()
    return cast, app.institution


def test_a_step_records_an_event_with_who_when_from_to_and_comment(filed):
    cast, inst = filed
    services.institution_suspend(institution=inst, actor=cast.centre, reason="监控设备故障")
    event = InstitutionEvent.objects.filter(institution=inst, occupation__isnull=True).latest("id")
    assert (event.action, event.from_status, event.to_status) == ("suspend", "active", "suspended")
    assert event.actor == cast.centre and event.comment == "监控设备故障" and event.created_at is not None
    history = inst.history.latest()
    assert history.history_user == cast.centre


def test_a_step_writes_only_its_own_fields(filed):
    cast, inst = filed
    with CaptureQueriesContext(connection) as queries:
        services.institution_suspend(institution=inst, actor=cast.centre, reason="整改")
    updates = [q["sql"] for q in queries.captured_queries if q["sql"].startswith('UPDATE "institutions_institution"')]
    assert len(updates) == 1
    assert '"valid_until"' not in updates[0] and '"site_sequence"' not in updates[0]
    assert '"status"' in updates[0] and '"status_reason"' in updates[0]


def test_a_wrong_role_is_refused_before_the_state_is_looked_at(filed):
    cast, inst = filed
    with pytest.raises(PermissionDenied):
        services.institution_restore(institution=inst, actor=cast.staff, reason="x")  # wrong role AND wrong state
    inst.refresh_from_db()
    assert inst.status == InstitutionStatus.ACTIVE and not inst.events.filter(action="restore").exists()


def test_a_wrong_state_is_a_transition_error_that_names_the_state(filed):
    cast, inst = filed
    with pytest.raises(TransitionError) as exc:
        services.institution_restore(institution=inst, actor=cast.centre, reason="x")
    assert "有效" in exc.value.messages[0]


def test_oversight_acts_with_its_own_authority_where_the_transition_lists_it(filed):
    cast, inst = filed
    officer = factories.user(Role.DISTRICT_HR_OFFICER)
    with pytest.raises(PermissionDenied):  # by role alone a district officer may not suspend
        services.institution_suspend(institution=inst, actor=officer, reason="违规")
    services.institution_suspend(
        institution=inst, actor=officer, reason="违规发证", authority=Authority(services.SANCTION, "违纪案件 #7")
    )
    inst.refresh_from_db()
    assert inst.status == InstitutionStatus.SUSPENDED
    assert inst.events.latest("id").actor == officer


def test_an_authority_the_transition_does_not_list_is_refused(filed):
    cast, inst = filed
    services.institution_suspend(institution=inst, actor=cast.centre, reason="整改")
    with pytest.raises(PermissionDenied):  # a sanction never restores
        services.institution_restore(
            institution=inst,
            actor=factories.user(Role.DISTRICT_HR_OFFICER),
            reason="x",
            authority=Authority("sanction"),
        )


def test_the_history_reason_is_shown_in_the_readers_language(filed):
    cast, inst = filed
    with translation.override("en"):  # the actor works in English
        services.institution_suspend(institution=inst, actor=cast.centre, reason="监控设备故障")
    reason = inst.history.latest().history_change_reason
    with translation.override("zh-hans"):
        assert shown(reason) == "暂停：监控设备故障"
    with translation.override("en"):
        assert shown(reason).startswith("Suspend") and "监控设备故障" in shown(reason)


def test_a_table_naming_an_unknown_state_is_refused_at_import():
    from institutions.models import Institution

    with pytest.raises(ValueError, match="unknown states"):
        Workflow(
            name="broken",
            model=Institution,
            event_model=InstitutionEvent,
            transitions=[
                Transition("x", "x", frozenset({"nonsense"}), has_role(Role.CENTRE_REVIEWER), target="active")
            ],
        )


def test_available_steps_are_exactly_those_the_check_allows(filed):
    cast, inst = filed
    for user in (cast.centre, cast.staff, cast.hr):
        offered = {t.name for t in services.DIRECTORY.available(inst, user)}
        for name in services.DIRECTORY.table:
            try:
                services.DIRECTORY.check(name, inst, user)
            except (PermissionDenied, TransitionError):
                assert name not in offered
            else:
                assert name in offered
