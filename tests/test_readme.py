"""The README's two opening commands stay true: CI runs the same test command, and the scripts exist."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def opening_commands() -> list[str]:
    block = re.search(r"```bash\n(.*?)```", (ROOT / "README.md").read_text(), re.S).group(1)
    return [line for line in block.splitlines() if line and not line.startswith("#")]


def test_readme_starts_with_setup_start_and_setup_test():
    """The first code block holds exactly the start command and the test command, in that order."""
    start, test = opening_commands()
    assert start == "bash .ci/setup && bash hub/scripts/demo"
    assert test.startswith("bash .ci/setup && ") and "pytest" in test
    for script in (".ci/setup", "hub/scripts/demo", "hub/scripts/local-slurm"):
        assert (ROOT / script).is_file()


def test_ci_runs_the_readme_test_command():
    """.ci/run executes the README's test command verbatim."""
    _, test = opening_commands()
    assert test in (ROOT / ".ci" / "run").read_text().splitlines()
