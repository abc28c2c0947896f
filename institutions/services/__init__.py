"""Every write of the filing lifecycle and the directory. Only these functions assign a status.

Split by concern, on the shared workflow core (``portal.workflow``):

- ``workflow``: the state machines (transition tables and policies);
- ``drafting``: the school's draft (contact, statements, evidence, occupations);
- ``rules``: what submission checks (notice annex §1);
- ``transitions``: every status change from submission to confirmation;
- ``numbering``: receipt numbers and site sequences from the shared counter;
- ``documents``: receipt PDFs, rendered after commit;
- ``directory``: suspend, restore, remove, renew and expiry.

Callers import from here (``from institutions import services``).
"""

from institutions.services.directory import (
    REMINDER_DAYS,
    directory_occupation_remove,
    directory_occupation_restore,
    directory_occupation_suspend,
    expiry_run,
    institution_remove,
    institution_renew,
    institution_restore,
    institution_suspend,
    occupation_valid_until,
)
from institutions.services.documents import receipt_render, receipts_render_pending
from institutions.services.drafting import (
    EVIDENCE_MAX_BYTES,
    EVIDENCE_TYPES,
    application_create,
    application_update,
    condition_answer_save,
    evidence_add,
    evidence_remove,
    occupation_add,
    occupation_remove,
    occupation_update,
    room_add,
    room_remove,
    site_add,
    site_remove,
    work_plan_upload,
)
from institutions.services.numbering import next_receipt_number, next_site_sequence
from institutions.services.rules import kind_problem, renewal_opens, submission_problems
from institutions.services.transitions import (
    add_years,
    application_accept,
    application_return,
    application_submit,
    application_withdraw,
    consent_record,
    evaluation_gaps,
    evaluation_objections,
    filing_confirm,
    findings_record,
    panel_agree,
    panel_conclude,
    panel_declare_conflict,
    panel_form,
    validity_end,
)
from institutions.services.workflow import (
    ADMINISTRATION,
    APPLICATION,
    DIRECTORY,
    DIRECTORY_OCCUPATION,
    DIRECTORY_SOURCES,
    EVALUATE_PERM,
    SANCTION,
    TRANSITIONS,
    available_actions,
    check_step,
    consent_body_of,
    may,
)
from portal.workflow import Authority, TransitionError

__all__ = [
    "ADMINISTRATION",
    "APPLICATION",
    "DIRECTORY",
    "DIRECTORY_OCCUPATION",
    "DIRECTORY_SOURCES",
    "EVALUATE_PERM",
    "EVIDENCE_MAX_BYTES",
    "EVIDENCE_TYPES",
    "REMINDER_DAYS",
    "SANCTION",
    "TRANSITIONS",
    "Authority",
    "TransitionError",
    "add_years",
    "application_accept",
    "application_create",
    "application_return",
    "application_submit",
    "application_update",
    "application_withdraw",
    "available_actions",
    "check_step",
    "condition_answer_save",
    "consent_body_of",
    "consent_record",
    "directory_occupation_remove",
    "directory_occupation_restore",
    "directory_occupation_suspend",
    "evidence_add",
    "evidence_remove",
    "expiry_run",
    "filing_confirm",
    "evaluation_gaps",
    "evaluation_objections",
    "findings_record",
    "institution_remove",
    "institution_renew",
    "institution_restore",
    "institution_suspend",
    "may",
    "next_receipt_number",
    "next_site_sequence",
    "occupation_add",
    "occupation_update",
    "occupation_valid_until",
    "occupation_remove",
    "room_add",
    "room_remove",
    "site_add",
    "site_remove",
    "work_plan_upload",
    "panel_agree",
    "panel_conclude",
    "panel_declare_conflict",
    "panel_form",
    "receipt_render",
    "receipts_render_pending",
    "kind_problem",
    "renewal_opens",
    "submission_problems",
    "validity_end",
]
