"""Access expectations of every URL, one module per app area (read by tests/test_access_matrix.py).

Each module defines:

- ``EXPECTATIONS``: url name -> (object key or None, {role: status of a GET});
- ``OUT_OF_SCOPE`` (optional): the same with an object outside the school's and district's reach;
- ``POST_EXPECTATIONS``: url name -> ``READ_ONLY`` or a list of ``Post`` cases (every URL needs one);
- ``ANON_REDIRECTS_ELSEWHERE`` (optional): url names whose anonymous 302 is not to the login page;
- ``build_objects(objects, people)`` (optional): the objects the keys name.

A POST must leave the database as it was (row counts, highest keys, every row's content), queue
nothing on commit and write no file, unless its expected status is wrapped in ``Writes``: then it
must change something (the matrix rolls it back before the next request).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

ANON = "anonymous"


class Writes(int):
    """An expected status after which the database must have changed: the role may take the step.

    ``Writes(302) == 302``; only the matrix looks at the wrapper.
    """

    def __repr__(self) -> str:
        return f"Writes({int(self)})"


class _ReadOnly:
    """The view has no POST handling: a POST answers as the GET does (or 405) and writes nothing."""

    def __repr__(self) -> str:
        return "READ_ONLY"


READ_ONLY = _ReadOnly()


@dataclass(frozen=True)
class Post:
    """One POST sent to a URL as every role and as an anonymous visitor.

    ``key`` names the object (as in ``EXPECTATIONS``); ``codes`` the status per role (``Writes``
    where the step is allowed and must write); ``data`` the body, or a function of the objects
    returning it (called for each request, so uploaded files are fresh). Give the body that would
    succeed for the allowed role: a refused role then proves it is refused before anything is
    written, not merely stopped by an invalid form.
    """

    key: str | None
    codes: dict[str, int]
    data: dict[str, Any] | Callable[[dict], dict[str, Any]] = field(default_factory=dict)
    note: str = ""

    def body(self, objects: dict) -> dict[str, Any]:
        return self.data(objects) if callable(self.data) else dict(self.data)
