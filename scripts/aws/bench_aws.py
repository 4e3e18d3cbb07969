"""Cold-start figures of the Lambda handler: import time of `functions/aws/handler.py` in a fresh
interpreter, with and without boto3 already imported, next to `python -c pass` and to what the
handler defers to its first invocation (importing boto3 and building its three clients).

    python scripts/aws/bench_aws.py            # prints the table
    sys.path.insert(0, "scripts/aws"); from bench_aws import bench_import_time  # -> dict (ms)
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
FUNCTION = ROOT / "functions" / "aws"
CLIENTS = ("import boto3\nfor s in ('dynamodb', 'sns', 'sqs'):\n"
           "    boto3.session.Session().client(s, region_name='us-east-1')")
STATEMENTS = {
    "python -c pass (baseline)": "pass",
    "import handler": "import sys, handler; assert 'boto3' not in sys.modules",
    "import boto3": "import boto3",
    "import boto3, then handler": "import boto3, handler",
    "first use: boto3 + 3 clients": CLIENTS,
}


def median_ms(statement: str, runs: int) -> float:
    """Median wall time of a fresh interpreter running `statement` in functions/aws, in ms."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    times = []
    for _ in range(runs):
        start = time.perf_counter()
        subprocess.run([sys.executable, "-c", statement], cwd=FUNCTION, env=env,
                       check=True)
        times.append(time.perf_counter() - start)
    return sorted(times)[len(times) // 2] * 1000


def bench_import_time(runs: int = 7) -> dict[str, float]:
    """Median ms per statement (after one warm-up run each, so .pyc files exist)."""
    for statement in STATEMENTS.values():
        median_ms(statement, 1)
    return {label: median_ms(stmt, runs) for label, stmt in STATEMENTS.items()}


def main() -> None:
    results = bench_import_time()
    base = results["python -c pass (baseline)"]
    for label, ms in results.items():
        extra = "" if ms is base else f"  = +{ms - base:.1f} ms over baseline"
        print(f"aws {label:<30}: {ms:7.1f} ms{extra}")


if __name__ == "__main__":
    main()
