"""State changes of assessment batches, one module per part: ``plans`` (the plan and its filing),
``staffing`` (rooms, staff and their checks), ``candidates``, ``results`` (attendance, scores,
the 5-working-day clock and the centre's review) and ``supervision``. Views call these only.

The plan's services are re-exported here (``services.plan_submit``); the other parts are used
by their module name (``services.staffing.staff_add``)."""

from .plans import (
    PLAN,
    lead_working_days,
    plan_accept,
    plan_amend,
    plan_create,
    plan_problems,
    plan_return,
    plan_submit,
    plan_withdraw,
)

__all__ = [
    "PLAN",
    "lead_working_days",
    "plan_accept",
    "plan_amend",
    "plan_create",
    "plan_problems",
    "plan_return",
    "plan_submit",
    "plan_withdraw",
]
