"""Plain `pytest` on these tests stops here and says what to run instead.

The public tests do not call your code themselves: each one asks the course's judge to
run a piece of your code in a separate, sandboxed worker process and compares what
comes back with values recorded from the course's reference. The `course` tool sets
that up (it gives the tests their `judge` and `expected` values), so run the tests with

    course check          # every task
    course check TASK     # one task, e.g. `course check sdpa` (task ids: course.toml)

`course check` ignores this file (it runs pytest with --noconftest).
"""

import pytest

GUIDANCE = (
    "These are the course's public tests; they do not run under plain pytest. Each test "
    "drives your code in a sandboxed worker process through the `course` tool, which gives "
    "the tests their `judge` and `expected` values. Run `course check` (every task) or "
    "`course check TASK` (one task, e.g. `course check sdpa`; the task ids are in "
    "course.toml, and the header of each file you edit names its tasks) from the course folder."
)


def pytest_configure(config):
    config.addinivalue_line("markers", "task(id): the course.toml task this test belongs to")
    raise pytest.UsageError(GUIDANCE)
