from .counters import Counter
from .jobs import Job, JobStatus
from .notifications import EmailStatus, Notification
from .organisations import District, Organisation, OrganisationKind, Role, User, UserRole
from .reference import (
    CalendarDay,
    CalendarYear,
    CatalogueMajor,
    MajorLevel,
    MajorOccupation,
    Occupation,
    OccupationKind,
)

__all__ = [
    "CalendarDay",
    "CalendarYear",
    "CatalogueMajor",
    "Counter",
    "District",
    "EmailStatus",
    "Job",
    "JobStatus",
    "MajorLevel",
    "MajorOccupation",
    "Notification",
    "Occupation",
    "OccupationKind",
    "Organisation",
    "OrganisationKind",
    "Role",
    "User",
    "UserRole",
]
