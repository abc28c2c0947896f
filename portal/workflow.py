"""One workflow core for every state machine of the portal.

An app declares its machine as a ``Workflow``: the model, the status field, the event model
and a table of ``Transition`` rows (from which states, who may act, what guards it). Its
services then take each step the same way::

    with WORKFLOW.step("submit", application, actor) as app:   # atomic, row locked, checked
        ...validate, write the step's own fields...
        WORKFLOW.move(app, "submit", actor=actor, to=S.SUBMITTED, fields=("round",))
        notify(...)                                             # rows commit with the step

``step`` opens a transaction, locks the row (``SELECT … FOR UPDATE``), and checks, in order:
the actor's right (a policy: ``PermissionDenied``, HTTP 403), the state (``TransitionError``,
HTTP 409) and the transition's guard (``TransitionError`` with the guard's reasons). ``move``
writes the status with ``update_fields``, stamps the history row with the acting user and a
reason stored in every reader's language, and writes one event row (who, when, from, to,
comment). ``note`` records a step that leaves the status as it is.

Who may act is a *policy*, a function of (user, object), never a role name inside a service.
A party acting with its own authority (oversight suspending an institution as a sanction)
passes an ``Authority`` that the transition lists; the core accepts it in place of the policy.

The core knows no app: each app hands it its own table, policies and event model.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import PermissionDenied
from django.db import models, transaction
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy

from portal.i18n import stored
from portal.services import record

Policy = Callable[[Any, models.Model], bool]
Guard = Callable[[models.Model], Iterable[str]]

__all__ = [
    "Authority",
    "Policy",
    "Transition",
    "TransitionError",
    "Workflow",
    "WorkflowEventBase",
    "all_of",
    "any_of",
    "has_role",
    "nobody",
    "system",
]


class TransitionError(Exception):
    """The object is not in a state that allows this step (HTTP 409), with the reasons."""

    def __init__(self, messages: str | Iterable[str]):
        self.messages = [str(messages)] if isinstance(messages, str | Promise) else [str(m) for m in messages]
        super().__init__("；".join(self.messages))


@dataclass(frozen=True)
class Authority:
    """A right to act that comes from elsewhere than the actor's role, e.g. a sanction decision."""

    name: str
    reason: str = ""


# --- Policies -------------------------------------------------------------------------


def has_role(*roles: str) -> Policy:
    def policy(user, obj) -> bool:
        return user is not None and user.is_authenticated and user.has_role(*roles)

    policy.__name__ = f"has_role({', '.join(roles)})"
    return policy


def all_of(*policies: Policy) -> Policy:
    def policy(user, obj) -> bool:
        return all(p(user, obj) for p in policies)

    return policy


def any_of(*policies: Policy) -> Policy:
    def policy(user, obj) -> bool:
        return any(p(user, obj) for p in policies)

    return policy


def system(user, obj) -> bool:
    """Only the portal's own jobs (no acting user), e.g. expiry."""
    return user is None


def nobody(user, obj) -> bool:
    return False


# --- Table ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Transition:
    name: str
    label: Promise | str
    sources: frozenset[str]
    policy: Policy
    target: str | None = None  # None: the status stays, or the service picks among outcomes
    guard: Guard | None = None  # state preconditions beyond the status: reasons it cannot happen now
    authorities: frozenset[str] = frozenset()  # Authority names accepted in place of the policy
    needs_comment: bool = False
    style: str = "primary"
    hint: Promise | str = ""


class WorkflowEventBase(models.Model):
    """One step of a workflow: who did what, when, from which state to which, with what comment.

    ``comment`` is either text a person typed (shown as typed) or ``portal.i18n.stored`` text.
    """

    action = models.CharField(gettext_lazy("操作"), max_length=40)
    from_status = models.CharField(gettext_lazy("原状态"), max_length=20, blank=True)
    to_status = models.CharField(gettext_lazy("新状态"), max_length=20)
    comment = models.TextField(gettext_lazy("意见"), blank=True)
    created_at = models.DateTimeField(gettext_lazy("时间"), auto_now_add=True)

    class Meta:
        abstract = True
        ordering = ["created_at", "id"]


@dataclass
class Workflow:
    """A state machine: a model, its status field, its event model and its transitions."""

    name: str
    model: type[models.Model]
    transitions: list[Transition]
    event_model: type[models.Model]
    event_fields: Callable[[models.Model], dict] = field(default=lambda obj: {})
    status_field: str = "status"
    lock_related: tuple[str, ...] = ()
    # The 409 message: %(status)s is the current state's label, %(action)s the step's.
    state_message: Promise | str = gettext_lazy("当前状态为“%(status)s”，不能执行“%(action)s”。")

    def __post_init__(self) -> None:
        self.table = {t.name: t for t in self.transitions}
        if len(self.table) != len(self.transitions):
            raise ValueError(f"workflow {self.name}: duplicate transition names")
        status_values = set(self.model._meta.get_field(self.status_field).get_choices(include_blank=False))
        known = {value for value, _label in status_values}
        for t in self.transitions:
            unknown = (set(t.sources) | ({t.target} if t.target else set())) - known
            if unknown:
                raise ValueError(f"workflow {self.name}: {t.name} names unknown states {sorted(unknown)}")

    # --- Reading the table --------------------------------------------------------------

    def __getitem__(self, name: str) -> Transition:
        return self.table[name]

    def __contains__(self, name: str) -> bool:
        return name in self.table

    def status_of(self, obj) -> str:
        return getattr(obj, self.status_field)

    def may(self, name: str, obj, user, authority: Authority | None = None) -> bool:
        """Whether ``user`` holds the right to take step ``name`` on ``obj`` (state aside)."""
        transition = self.table[name]
        if authority is not None:
            return authority.name in transition.authorities
        return transition.policy(user, obj)

    def allows(self, name: str, obj) -> bool:
        """Whether the state of ``obj`` allows step ``name`` (right aside), guard included."""
        transition = self.table[name]
        return self.status_of(obj) in transition.sources and not self.guard_problems(transition, obj)

    def guard_problems(self, transition: Transition, obj) -> list[str]:
        return [str(m) for m in transition.guard(obj)] if transition.guard else []

    def available(self, obj, user) -> list[Transition]:
        """The steps ``user`` may take on ``obj`` now: the buttons a page shows."""
        return [t for t in self.transitions if self.status_of(obj) in t.sources and t.policy(user, obj)]

    def check(self, name: str, obj, user, authority: Authority | None = None) -> Transition:
        """403 without the right; 409 (TransitionError) when the state or a guard refuses."""
        transition = self.table[name]
        if not self.may(name, obj, user, authority):
            raise PermissionDenied
        if self.status_of(obj) not in transition.sources:
            field = self.model._meta.get_field(self.status_field)
            status_label = dict(field.flatchoices).get(self.status_of(obj), self.status_of(obj))
            raise TransitionError(str(self.state_message) % {"status": status_label, "action": transition.label})
        problems = self.guard_problems(transition, obj)
        if problems:
            raise TransitionError(problems)
        return transition

    # --- Taking a step ------------------------------------------------------------------

    def lock(self, obj):
        """A fresh copy of ``obj`` with its row locked until the transaction ends."""
        qs = self.model._default_manager.select_for_update(of=("self",))
        if self.lock_related:
            qs = qs.select_related(*self.lock_related)
        return qs.get(pk=obj.pk)

    @contextlib.contextmanager
    def step(self, name: str, obj, actor, authority: Authority | None = None) -> Iterator[Any]:
        """Atomic: lock the row, check right, state and guard, and hand the locked object over."""
        with transaction.atomic():
            locked = self.lock(obj)
            self.check(name, locked, actor, authority)
            yield locked

    def reason(self, name: str, comment: str = "", authority: Authority | None = None) -> str:
        label = self.table[name].label if name in self.table else name
        if authority is not None and authority.reason:
            comment = authority.reason if not comment else comment
        if comment:
            return stored(gettext_lazy("%(action)s：%(comment)s"), action=label, comment=comment)
        return stored(label)

    def move(
        self,
        obj,
        name: str,
        *,
        actor,
        to: str | None = None,
        comment: str = "",
        fields: Iterable[str] = (),
        authority: Authority | None = None,
    ):
        """Write the new status (and ``fields``) with history and an event row. Inside ``step``."""
        transition = self.table[name]
        to = to or transition.target
        if to is None:
            raise ValueError(f"{self.name}.{name}: no target state given")
        if not transaction.get_connection().in_atomic_block:
            raise RuntimeError("Workflow.move() runs inside Workflow.step()")
        from_status = self.status_of(obj)
        setattr(obj, self.status_field, to)
        record(obj, actor=actor, reason=self.reason(name, comment, authority))
        obj.save(update_fields=[self.status_field, *fields])
        return self._event(obj, name, actor=actor, from_status=from_status, to_status=to, comment=comment)

    def note(self, obj, name: str, *, actor, comment: str = ""):
        """Record a step that leaves the status as it is (a panel change, a first consent)."""
        status = self.status_of(obj)
        return self._event(obj, name, actor=actor, from_status=status, to_status=status, comment=comment)

    def _event(self, obj, name: str, *, actor, from_status: str, to_status: str, comment: str):
        return self.event_model.objects.create(
            action=name,
            from_status=from_status,
            to_status=to_status,
            actor=actor,
            comment=comment,
            **self.event_fields(obj),
        )
