from .counters import Counter
from .jobs import Job, JobStatus
from .notifications import EmailStatus, Notification
from .organisations import District, Organisation, OrganisationKind, Role, User, UserRole
from .reference import CalendarDay, CalendarYear, Occupation, OccupationKind

__all__ = [
    "CalendarDay",
    "CalendarYear",
    "Counter",
    "District",
    "EmailStatus",
    "Job",
    "JobStatus",
    "Notification",
    "Occupation",
    "OccupationKind",
    "Organisation",
    "OrganisationKind",
    "Role",
    "User",
    "UserRole",
]
