"""SARIF 2.1.0: one result per undetected mutant, at its span, so code scanning annotates the PR."""

from __future__ import annotations

from results.report_data import RunReport
from results.status import WHY_UNDETECTED

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def sarif_report(report: RunReport) -> dict:
    undetected = report.undetected
    operators = sorted({m.operator for m in undetected})
    rules = [{"id": op, "name": op, "shortDescription": {"text": f"A '{op}' mutant went undetected by the tests"},
              "helpUri": "https://github.com/mutagate/mutagate#operators"} for op in operators]
    rule_index = {op: i for i, op in enumerate(operators)}
    results = []
    for m in undetected:
        why = WHY_UNDETECTED[m.status].finding
        results.append({
            "ruleId": m.operator,
            "ruleIndex": rule_index[m.operator],
            "level": "warning",
            "message": {"text": f"Mutant {m.id} ({m.agent}): `{m.original}` -> `{m.replacement}` and {why}."},
            "locations": [{"physicalLocation": {
                "artifactLocation": {"uri": m.file, "uriBaseId": "SRCROOT"},
                "region": {"startLine": m.line, "startColumn": m.col, "endLine": m.end_line, "endColumn": m.end_col},
            }}],
            "partialFingerprints": {"mutagateMutantId": m.id},
            "properties": {"status": m.status, "agent": m.agent, "coveringTests": len(m.covering_tests)},
        })
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [{
            "tool": {"driver": {"name": "mutagate", "version": report.tool_version,
                                "informationUri": "https://github.com/mutagate/mutagate", "rules": rules}},
            "originalUriBaseIds": {"SRCROOT": {"uri": "file://" + report.repo.rstrip("/") + "/"}},
            "versionControlProvenance": [{"repositoryUri": report.repo, "revisionId": report.head_commit}],
            "results": results,
        }],
    }
