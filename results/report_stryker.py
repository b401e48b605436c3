"""The open mutation-testing-report-schema (what Stryker, PIT and mutation-testing-elements read)."""

from __future__ import annotations

from results.report_data import RunReport

STATUS = {"killed": "Killed", "survived": "Survived", "no_coverage": "NoCoverage", "timeout": "Timeout",
          "not_run": "Ignored"}  # past the run's time budget: Stryker's scores leave Ignored out too


def stryker_report(report: RunReport, high: int = 80, low: int = 60) -> dict:
    files: dict[str, dict] = {}
    tests: dict[str, dict[str, None]] = {}
    for m in (*report.mutants, *report.not_run):
        if m.file not in files:
            files[m.file] = {"language": "python", "source": report.source(m.file), "mutants": []}
        entry = files[m.file]
        mutant = {
            "id": m.id,
            "mutatorName": m.operator,
            "replacement": m.replacement,
            "location": {"start": {"line": m.line, "column": m.col}, "end": {"line": m.end_line, "column": m.end_col}},
            "status": STATUS.get(m.status, "RuntimeError"),
            "description": f"{m.original!r} -> {m.replacement!r} in {m.qualname or '<module>'} ({m.agent})",
            "coveredBy": list(m.covering_tests),
            "killedBy": list(m.killed_by),
            "testsCompleted": m.tests_run,
            "duration": round(m.seconds * 1000),
        }
        if m.status == "not_run":
            mutant["statusReason"] = "not run: past the run's time budget"
        entry["mutants"].append(mutant)
        for test in (*m.covering_tests, *m.killed_by):
            tests.setdefault(test.split("::", 1)[0], {})[test] = None  # ordered, no repeats
    return {
        "$schema": "https://git.io/mutation-testing-schema",
        "schemaVersion": "2",
        "thresholds": {"high": high, "low": low},
        "projectRoot": report.repo,
        "files": files,
        "testFiles": {path: {"tests": [{"id": t, "name": t.split("::", 1)[-1]} for t in ids]}
                      for path, ids in sorted(tests.items())},
        "framework": {"name": "mutagate", "version": report.tool_version},
    }
