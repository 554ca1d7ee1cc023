"""Write JSON Schema snapshots for event versions that have none yet: `python -m contracts.snapshot`.

A snapshot is written once, when a version is first published, and never edited: the test suite
checks every model against its snapshot (contracts/compat.py). `--check` only reports.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import contracts
from contracts.compat import incompatibilities

SCHEMA_DIR = Path(__file__).resolve().parent / "schemas"


def schema_of(event_type: str) -> dict:
    return contracts.EVENT_REGISTRY[event_type].model_json_schema()


def snapshot_path(event_type: str) -> Path:
    return SCHEMA_DIR / f"{event_type}.json"


def main(argv: list[str]) -> int:
    check_only = "--check" in argv
    SCHEMA_DIR.mkdir(exist_ok=True)
    status = 0
    for event_type in sorted(contracts.EVENT_REGISTRY):
        path = snapshot_path(event_type)
        current = schema_of(event_type)
        if not path.exists():
            if check_only:
                print(f"missing snapshot: {event_type}")
                status = 1
            else:
                path.write_text(json.dumps(current, indent=2, ensure_ascii=False, sort_keys=True) + "\n")
                print(f"wrote {path.relative_to(Path.cwd()) if path.is_relative_to(Path.cwd()) else path}")
            continue
        problems = incompatibilities(json.loads(path.read_text()), current)
        for problem in problems:
            print(f"{event_type}: {problem}")
        status |= bool(problems)
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
