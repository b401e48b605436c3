"""GitLab Code Quality JSON (a subset of the Code Climate spec): one issue per undetected mutant, so
GitLab shows survivors in the merge request's diff and widget.

GitLab reads exactly these fields: description, check_name, fingerprint (unique per issue: the mutant's
stable id, so an issue keeps its identity from one pipeline to the next and GitLab can say which are
new or resolved), severity (info, minor, major, critical, blocker), location.path (relative to the
repository root) and location.lines.begin."""

from __future__ import annotations

from results.mutant_text import edit_text
from results.report_data import RunReport
from results.status import WHY_UNDETECTED, Status
from results.stored_mutant import StoredMutant

# A survivor is what only mutation testing finds (the tests run the line and miss the change); a line
# no test runs at all is also what any coverage report shows.
SEVERITY = {Status.SURVIVED: "major", Status.NO_COVERAGE: "minor"}


def _description(m: StoredMutant) -> str:
    why = WHY_UNDETECTED[m.status].reason
    return (f"Undetected mutant ({m.operator}, {m.agent}): `{edit_text(m.original)}` → `{edit_text(m.replacement)}`"
            f" — {why}. mutagate show {m.id}")


def codeclimate_report(report: RunReport) -> list[dict]:
    return [
        {
            "description": _description(m),
            "check_name": f"mutagate/{m.operator}",
            "fingerprint": m.id,
            "severity": SEVERITY.get(m.status, "major"),
            "location": {"path": m.file, "lines": {"begin": m.line}},
        }
        for m in report.undetected
    ]
