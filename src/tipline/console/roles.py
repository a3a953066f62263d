"""The staff roles, as Django groups. The console issue gives each its permissions."""

from __future__ import annotations

ANALYST = "analyst"
SENIOR_ANALYST = "senior_analyst"
SUPERVISOR = "supervisor"
ADMIN = "admin"
LIAISON = "liaison"
ROLES = (ANALYST, SENIOR_ANALYST, SUPERVISOR, ADMIN, LIAISON)

# Until the console exists, staff read reports and networks in the admin site.
READ_INTAKE = ("intake.view_report", "intake.view_reportmedia", "intake.view_stagerun")
READ_CROSSREF = (
    "crossref.view_link",
    "crossref.view_network",
    "crossref.view_commonvalue",
    "crossref.view_allowedvalue",
)
# Which values never link is a hotline-wide decision: senior staff edit the allowlist.
EDIT_ALLOWLIST = (
    "crossref.add_allowedvalue",
    "crossref.change_allowedvalue",
    "crossref.delete_allowedvalue",
)
READ_ORIENT = (
    "orient.view_destination",
    "orient.view_rule",
    "orient.view_routing",
    "orient.view_dispatch",
    "orient.view_takedown",
)
# Rules and the destinations directory decide where reports go: supervisors edit them.
EDIT_ROUTING = (
    "orient.add_rule",
    "orient.change_rule",
    "orient.delete_rule",
    "orient.add_destination",
    "orient.change_destination",
)
# Supervisors search and export the audit log; nobody changes it.
READ_AUDIT = ("common.view_auditrecord",)
# What analysts do to items; seniors confirm what leaves the hotline (four eyes: the
# services refuse anyone confirming their own proposal).
ANALYST_ACTIONS = (
    "orient.assess_item",
    "orient.state_hosting",
    "orient.record_removal",
    "orient.propose_dispatch",
    "crossref.cut_link",
)
SENIOR_ACTIONS = (
    "orient.confirm_dispatch",
    "orient.cancel_dispatch",
    "crossref.decide_commonvalue",
)
ACKNOWLEDGE = ("orient.acknowledge_dispatch",)
_ANALYST = (*READ_INTAKE, *READ_CROSSREF, *READ_ORIENT, *ANALYST_ACTIONS)
# Reporters' names and contact details: senior staff only (an analyst assesses content).
_SENIOR = (*_ANALYST, *EDIT_ALLOWLIST, *SENIOR_ACTIONS, "intake.view_reporter")
# Supervisors read the statistics (stats is a later stage: named here, not imported).
READ_STATISTICS = ("stats.view_statistics",)
_SUPERVISOR = (
    *_SENIOR,
    *EDIT_ROUTING,
    *READ_AUDIT,
    *READ_STATISTICS,
    *ACKNOWLEDGE,
    "intake.view_provider",
)
PERMISSIONS: dict[str, tuple[str, ...]] = {
    ANALYST: _ANALYST,
    SENIOR_ANALYST: _SENIOR,
    SUPERVISOR: _SUPERVISOR,
    ADMIN: _SUPERVISOR,
    # Police liaison officers: what was sent to their office, and its acknowledgement.
    LIAISON: ("orient.view_dispatch", *ACKNOWLEDGE),
}
