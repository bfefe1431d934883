"""Run one production-profile test N times against a single started profile (flakiness hunting).

    .venv/bin/python scripts/repeat_production_test.py [TEST_NAME] [COUNT]

Default: the test of two messages of one person sent at once to both instances, 20 times. Starts the
same private PostgreSQL, Redis, nginx and Rasa instances as tests/production/conftest.py, then stops them.
"""

from __future__ import annotations

import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.production import conftest, test_production_profile  # noqa: E402

DEFAULT_TEST = "test_messages_of_one_person_sent_at_once_to_both_instances_are_both_handled"


class _TempFactory:
    def mktemp(self, name: str) -> Path:
        return Path(tempfile.mkdtemp(prefix=name))


def main(argv: list[str]) -> int:
    name = argv[0] if argv else DEFAULT_TEST
    count = int(argv[1]) if len(argv) > 1 else 20
    test = getattr(test_production_profile, name)
    profile = conftest.production._get_wrapped_function()(_TempFactory())
    production = next(profile)
    passed = 0
    try:
        for run in range(1, count + 1):
            start = time.time()
            test(production)
            passed += 1
            print(f"run {run}: passed in {time.time() - start:.1f} s", flush=True)
    finally:
        print(f"{passed}/{count} passed", flush=True)
        next(profile, None)
    return 0 if passed == count else 1


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
