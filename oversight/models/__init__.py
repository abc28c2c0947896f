"""Oversight (DOMAIN.md "Oversight"; notice main text 一(二), 二(四), 三(二); annex 四(二)).

One module per part: coverage, cases (violations, sanctions, complaints), roster sharing,
materialised summaries, and the audit log. Oversight writes only its own rows; it acts on other
apps' data through their services, with the ``SANCTION`` authority where a decision requires it.
"""

from .audit import AuditEntry
from .cases import (
    CaseEvent,
    CaseEvidence,
    CaseSource,
    CaseStatus,
    ComplainantKind,
    Complaint,
    ComplaintEvent,
    ComplaintStatus,
    DecidingBody,
    Sanction,
    SanctionKind,
    SubjectKind,
    ViolationCase,
)
from .coverage import CoverageChannel, ExternalEvaluation, MajorCoverage, UncoveredReason
from .roster import RosterEntry, RosterImport
from .summaries import SubsidyHolder, Summary

__all__ = [
    "AuditEntry",
    "CaseEvent",
    "CaseEvidence",
    "CaseSource",
    "CaseStatus",
    "ComplainantKind",
    "Complaint",
    "ComplaintEvent",
    "ComplaintStatus",
    "CoverageChannel",
    "DecidingBody",
    "ExternalEvaluation",
    "MajorCoverage",
    "RosterEntry",
    "RosterImport",
    "Sanction",
    "SanctionKind",
    "SubjectKind",
    "SubsidyHolder",
    "Summary",
    "UncoveredReason",
    "ViolationCase",
]
