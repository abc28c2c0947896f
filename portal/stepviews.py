"""One way for a page to take a workflow step: thin views, the same answers everywhere.

- out of the user's scope: the selector raises 404 before anything here runs;
- wrong role or no right (policy): ``PermissionDenied`` → 403;
- wrong state or a guard refuses (``TransitionError``) → the app's 409 page with the reasons;
- a rule refuses the input (``ValidationError``) → the same form again, with the message and
  everything the user typed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse

from portal.workflow import TransitionError, Workflow

__all__ = ["Outcome", "perform", "step_refusal"]


@dataclass
class Outcome:
    result: Any = None
    refusal: list[str] = field(default_factory=list)
    invalid: bool = False

    @property
    def done(self) -> bool:
        return not self.refusal and not self.invalid


def step_refusal(
    request: HttpRequest, workflow: Workflow, name: str, obj, refused: Callable[[list[str]], HttpResponse]
) -> HttpResponse | None:
    """Before showing a step's page: 403 without the right, ``refused(reasons)`` (409) when the state says no."""
    try:
        workflow.check(name, obj, request.user)
    except TransitionError as exc:
        return refused(exc.messages)
    return None


def perform(form, action: Callable[[], Any], *, field_name: str | None = None) -> Outcome:
    """Run a service for a valid form; map its refusals as above (403 propagates)."""
    try:
        return Outcome(result=action())
    except TransitionError as exc:
        return Outcome(refusal=exc.messages)
    except ValidationError as exc:
        for message in exc.messages:
            form.add_error(field_name, message)
        return Outcome(invalid=True)
