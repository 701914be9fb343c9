"""The API fuzzing's figures per role: operations, cases sent, 2xx answers, failed tests. Each fuzz test leaves a
`fuzz` user property (tests/fuzz/conftest.py `record`); the process that reports the run (the xdist controller, or
the only process) adds them up and prints the table at the end (tests/conftest.py calls these two hooks)."""

import json
from collections import defaultdict

_rows: dict[str, dict[str, int]] = defaultdict(lambda: defaultdict(int))


def collect(report) -> None:
    for name, value in report.user_properties:
        if name != "fuzz":
            continue
        figures = json.loads(value)
        row = _rows[figures["role"]]
        if report.when == "teardown":  # the property is recorded once, in the fixture's teardown
            row["tests"] += 1
            row["operations"] += figures["label"] != "stateful"
            row["cases"] += figures["cases"]
            row["2xx"] += figures["successes"]
    if "fuzz" in report.nodeid and report.failed:
        role = _role_of(report.nodeid)
        if role is not None:
            _rows[role]["failed"] += 1


def _role_of(nodeid: str) -> str | None:
    if "test_fuzz_anonymous" in nodeid:
        return "anonymous"
    if "test_coverage_phase_as_owner" in nodeid:
        return "owner (coverage phase)"
    if nodeid.endswith("]") and ("test_fuzz_as_role" in nodeid or "test_stateful_as_role" in nodeid):
        return nodeid.rsplit("[", 1)[-1].rstrip("]")
    return None


def summary(terminalreporter) -> None:
    if not _rows:
        return
    terminalreporter.section("API fuzzing per role (tests/fuzz/)")
    header = ("role", "tests", "operations", "cases", "2xx", "failed")
    lines = [header] + [(role, *(str(row[key]) for key in header[1:])) for role, row in sorted(_rows.items())]
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    for line in lines:
        terminalreporter.write_line("  ".join(cell.rjust(width) for cell, width in zip(line, widths, strict=True)))
