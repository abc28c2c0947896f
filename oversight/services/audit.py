"""Oversight: the audit log's writer (issue 10 item 7).

One ``AuditEntry`` per history row, written by a receiver of django-simple-history's
``post_create_historical_record`` signal (connected in ``oversight.views.audit.ready``): the acting
user, the organisation they belonged to at that moment, the object's type and id, its name, the
action (+ ~ -) and the reason stored with the history row.

Cost: exactly one INSERT per history row. The object's name is taken from ``str(instance)`` only
when that needs no query (a ``__str__`` that follows a foreign key not already loaded falls back
to "<type> #<id>"), so bulk paths that save row by row gain one insert each and nothing more.
``bulk_create_with_history`` / ``bulk_update_with_history`` do not send the signal: rows they write
reach the log only through ``manage.py backfill_audit_log``.
"""

from __future__ import annotations

from django.apps import apps
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connections, transaction
from django.utils import translation

from oversight.models import AuditEntry

REPR_MAX = 200


class _QueryBlocked(Exception):
    pass


def _refuse_queries(execute, sql, params, many, context):
    raise _QueryBlocked


def object_repr(instance, *, using: str = "default") -> str:
    """``str(instance)`` if it needs no query, otherwise "<verbose name> #<pk>"; at most 200 characters."""
    # Stored for every reader: written in the portal's language, not the actor's.
    with translation.override(settings.LANGUAGE_CODE):
        try:
            with connections[using].execute_wrapper(_refuse_queries):
                text = str(instance)
        except Exception:  # a query refused, or a broken __str__: never stop the write it describes
            text = f"{instance._meta.verbose_name} #{instance.pk}"
    return text[:REPR_MAX]


def _organisation_id(user) -> int | None:
    if user is None:
        return None
    return getattr(user, "organisation_id", None)


def entry_from_history(*, instance, history_instance, history_user, history_change_reason, using=None) -> AuditEntry:
    """Write the log row of one history row (one INSERT; the content type is cached per process)."""
    db = using or "default"
    user_id = getattr(history_user, "pk", None) if history_user is not None else None
    return AuditEntry.objects.using(db).create(
        at=history_instance.history_date,
        user_id=user_id,
        organisation_id=_organisation_id(history_user) if user_id else None,
        content_type=ContentType.objects.db_manager(db).get_for_model(instance.__class__),
        object_id=str(instance.pk)[:40],
        object_repr=object_repr(instance, using=db),
        action=history_instance.history_type,
        reason=history_change_reason or "",
        history_id=history_instance.pk,
    )


def on_history_record(
    sender, *, instance, history_instance, history_user=None, history_change_reason=None, using=None, **kwargs
) -> None:
    """Receiver of ``post_create_historical_record``."""
    entry_from_history(
        instance=instance,
        history_instance=history_instance,
        history_user=history_user,
        history_change_reason=history_change_reason,
        using=using,
    )


def connect() -> None:
    from simple_history.signals import post_create_historical_record

    post_create_historical_record.connect(on_history_record, dispatch_uid="oversight_audit_entry")


# --- Backfill: history rows written before the log existed, or by bulk paths -------------------------

BACKFILL_BATCH = 2000


def history_models() -> list:
    """Every historical model simple-history registered (one per tracked model)."""
    from simple_history.models import registered_models

    out = []
    for model in registered_models.values():
        history = getattr(model, "history", None)
        if history is not None:
            out.append((model, history.model))
    return sorted(out, key=lambda pair: pair[0]._meta.label)


def audit_backfill(*, batch_size: int = BACKFILL_BATCH) -> dict[str, int]:
    """Add the missing log rows of every history table, in bulk (idempotent: a history row already
    logged, matched by content type and history id, is skipped). Returns rows added per model."""
    from portal.models import User

    added: dict[str, int] = {}
    organisation_of = dict(User.objects.values_list("pk", "organisation_id"))
    for model, history_model in history_models():
        ct = ContentType.objects.get_for_model(model)
        done = set(AuditEntry.objects.filter(content_type=ct).values_list("history_id", flat=True))
        pk_name = model._meta.pk.attname
        rows = (
            history_model.objects.order_by("history_id")
            .values_list(
                "history_id", "history_date", "history_user_id", "history_type", "history_change_reason", pk_name
            )
            .iterator(chunk_size=batch_size)
        )
        batch: list[AuditEntry] = []
        count = 0
        with translation.override(settings.LANGUAGE_CODE):
            name = str(model._meta.verbose_name)
        for hid, when, user_id, kind, reason, object_pk in rows:
            if hid in done:
                continue
            batch.append(
                AuditEntry(
                    at=when,
                    user_id=user_id,
                    organisation_id=organisation_of.get(user_id) if user_id else None,
                    content_type=ct,
                    object_id=str(object_pk)[:40],
                    object_repr=f"{name} #{object_pk}"[:REPR_MAX],
                    action=kind,
                    reason=reason or "",
                    history_id=hid,
                )
            )
            if len(batch) >= batch_size:
                with transaction.atomic():
                    AuditEntry.objects.bulk_create(batch)
                count += len(batch)
                batch = []
        if batch:
            with transaction.atomic():
                AuditEntry.objects.bulk_create(batch)
            count += len(batch)
        if count:
            added[model._meta.label] = count
    return added


def model_of(content_type_id: int):
    ct = ContentType.objects.get_for_id(content_type_id)
    return apps.get_model(ct.app_label, ct.model) if ct else None
