"""State changes of assessment batches, one module per part: ``plans`` (the plan and its filing),
``staffing`` (rooms, staff and their checks), ``candidates``, ``results`` (attendance, scores,
the 5-working-day clock and the centre's review) and ``supervision``. Views call these only."""

from .plans import *  # noqa: F401,F403
from .plans import (
    PLAN,
    lead_working_days,
    plan_accept,
    plan_create,
    plan_problems,
    plan_return,
    plan_submit,
    plan_withdraw,
)  # noqa: F401
