"""Collects the figures the performance tests record (`record_property`) and prints them after the run."""

PERFORMANCE_DIR = "tests/performance/"

_figures: list[tuple[str, list[tuple[str, object]]]] = []


def pytest_runtest_logreport(report):
    figures = [(name, value) for name, value in report.user_properties if name != "threshold"]
    if report.when == "call" and report.nodeid.startswith(PERFORMANCE_DIR) and figures:
        _figures.append((report.nodeid.split("::", 1)[-1] + ("" if report.passed else "  [FAILED]"), figures))


def pytest_terminal_summary(terminalreporter):
    if not _figures:
        return
    terminalreporter.section("performance figures (measured)")
    for test, properties in _figures:
        terminalreporter.write_line(test)
        terminalreporter.write_line("    " + ", ".join(f"{name}={value}" for name, value in properties))
