"""Text stored once and shown in the reader's language.

A notification title, a history reason, a generated event comment or a job message is written
by one person and read by others, perhaps in another language. Calling ``gettext`` when storing
would freeze the actor's language. Instead a service stores the message id and its parameters::

    title = stored(gettext_lazy("备案申请被退回修改：%(school)s"), school=school.name)

and every page shows it through ``shown()`` (the ``|shown`` template filter), which translates
it into the language of the request that reads it. Text typed by a person (a reviewer's
comment) is stored as typed and shown as typed.

The stored form is a short JSON document behind a marker character, so a plain string from an
older row, or typed text, passes through ``shown()`` unchanged.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from django.utils.functional import Promise
from django.utils.translation import gettext, pgettext

MARKER = "\u2063"  # INVISIBLE SEPARATOR: never typed by a person, never shown
__all__ = ["stored", "shown", "is_stored", "MARKER"]


def _message_parts(message: Any) -> tuple[str, str]:
    """(msgid, context) of a ``gettext_lazy``/``pgettext_lazy`` proxy or a plain msgid."""
    if isinstance(message, Promise):
        args = getattr(message, "_args", None)
        if args is None:  # pragma: no cover - older Django kept them under a mangled name
            args = message._proxy____args
        if len(args) == 2:  # pgettext_lazy(context, message)
            return str(args[1]), str(args[0])
        return str(args[0]), ""
    return str(message), ""


def _encode_value(value: Any) -> Any:
    if isinstance(value, Promise):
        msgid, context = _message_parts(value)
        return {"m": msgid, "c": context} if context else {"m": msgid}
    if isinstance(value, str) and value.startswith(MARKER):
        return json.loads(value[len(MARKER) :])
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    if isinstance(value, int | float) and not isinstance(value, bool):
        return value
    if value is None:
        return ""
    return str(value)


def stored(message: Any, **params: Any) -> str:
    """The storable form of ``message`` (a lazy translation) with its ``%(name)s`` parameters.

    A parameter may itself be a lazy translation (a status label) or another ``stored()`` text;
    each is translated for the reader too.
    """
    msgid, context = _message_parts(message)
    doc: dict[str, Any] = {"m": msgid}
    if context:
        doc["c"] = context
    if params:
        doc["p"] = {k: _encode_value(v) for k, v in params.items()}
    return MARKER + json.dumps(doc, ensure_ascii=False, separators=(",", ":"))


def is_stored(text: Any) -> bool:
    return isinstance(text, str) and text.startswith(MARKER)


def _render(doc: Any) -> str:
    if not isinstance(doc, dict) or "m" not in doc:
        return str(doc)
    translated = pgettext(doc["c"], doc["m"]) if doc.get("c") else gettext(doc["m"])
    params = doc.get("p")
    if not params:
        return translated
    values = {k: _render(v) if isinstance(v, dict) else v for k, v in params.items()}
    try:
        return translated % values
    except (KeyError, TypeError, ValueError):  # a catalogue entry that lost a placeholder
        return doc["m"] % values if "%(" in doc["m"] else translated


def shown(text: Any) -> str:
    """``text`` in the active language: a ``stored()`` text is translated, anything else is as typed."""
    if text is None:
        return ""
    if not is_stored(text):
        return str(text)
    try:
        return _render(json.loads(text[len(MARKER) :]))
    except (ValueError, TypeError):
        return text[len(MARKER) :]
