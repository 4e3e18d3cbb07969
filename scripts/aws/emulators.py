"""The local AWS for `make emulators` / `make emulators-stop` / `make demo`.

    python scripts/aws/emulators.py up   [--port 4566] [--state-dir .kubetrail]
    python scripts/aws/emulators.py down [--state-dir .kubetrail]
    python scripts/aws/emulators.py table [--state-dir .kubetrail]   # prints a new table's name

`up` starts the moto server (scripts/aws/moto_server.py) on 127.0.0.1:PORT in the background
unless one already answers there (idempotent), then creates — idempotently — what Terraform
creates in AWS: the dedup table (TTL on), the findings topic, the dead-letter queue, plus an SQS
queue subscribed to the topic to read findings back; and writes the settings to
STATE/aws.env (KEY=VALUE lines, read by `kubetrail local invoke aws`). `down` stops the server
`up` started (by the pid it recorded, after checking it is that server) and removes the file.
`table` creates another, empty dedup table on the running server (`make demo` uses a fresh one per
run, so its first delivery always shows the findings).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
REGION = "us-east-1"
NAME = "kubetrail"  # the Terraform module's default name: same resource names as in AWS


def answers(endpoint: str) -> bool:
    try:
        with urllib.request.urlopen(f"{endpoint}/moto-api/", timeout=1) as resp:  # noqa: S310
            return int(resp.status) == 200
    except OSError:
        return False


def start(port: int, state: Path) -> str:
    """The endpoint of a running moto server, started (detached) if none answers."""
    endpoint = f"http://127.0.0.1:{port}"
    if answers(endpoint):
        print(f"moto: already answering on {endpoint}")
        return endpoint
    log = (state / "moto.log").open("ab")
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "moto_server.py"), "--host", "127.0.0.1", "--port",
         str(port)], stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
        start_new_session=True)
    (state / "moto.pid").write_text(f"{proc.pid}\n")
    deadline = time.monotonic() + 30
    while not answers(endpoint):
        if proc.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"moto did not start on {endpoint}; see {state / 'moto.log'}")
        time.sleep(0.1)
    print(f"moto: started on {endpoint} (pid {proc.pid}, log {state / 'moto.log'})")
    return endpoint


def client(service: str, endpoint: str) -> Any:
    import boto3

    return boto3.session.Session().client(
        service, endpoint_url=endpoint, region_name=REGION, aws_access_key_id="testing",
        aws_secret_access_key="testing")  # noqa: S106 - moto's dummy, not a secret


def dedup_table(endpoint: str, table: str) -> str:
    """Create the dedup table (as Terraform declares it) unless it exists."""
    from kubetrail.dedup.dynamodb import DynamoDBDedupStore

    ddb = client("dynamodb", endpoint)
    if table not in ddb.list_tables()["TableNames"]:
        ddb.create_table(**DynamoDBDedupStore.table_definition(table))
        ddb.update_time_to_live(TableName=table, TimeToLiveSpecification={
            "Enabled": True, "AttributeName": DynamoDBDedupStore.TTL_ATTRIBUTE})
    return table


def provision(endpoint: str) -> dict[str, str]:
    """Create (or find) the resources; return the settings that name them."""
    sns, sqs = client("sns", endpoint), client("sqs", endpoint)
    table = dedup_table(endpoint, f"{NAME}-dedup")
    topic = sns.create_topic(Name=f"{NAME}-findings")["TopicArn"]  # idempotent
    dlq = sqs.create_queue(QueueName=f"{NAME}-dead-letter")["QueueUrl"]
    reader = sqs.create_queue(QueueName=f"{NAME}-findings-local")["QueueUrl"]
    reader_arn = sqs.get_queue_attributes(QueueUrl=reader, AttributeNames=["QueueArn"])[
        "Attributes"]["QueueArn"]
    subscribed = sns.list_subscriptions_by_topic(TopicArn=topic)["Subscriptions"]
    if not any(s["Endpoint"] == reader_arn for s in subscribed):
        sns.subscribe(TopicArn=topic, Protocol="sqs", Endpoint=reader_arn)
    return {
        "KUBETRAIL_MOTO_URL": endpoint, "AWS_ENDPOINT_URL": endpoint,
        "AWS_DEFAULT_REGION": REGION, "AWS_REGION": REGION,
        "AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",  # moto's dummies
        "KUBETRAIL_DEDUP_TABLE": table, "KUBETRAIL_SNS_TOPIC_ARN": topic,
        "KUBETRAIL_DLQ_URL": dlq, "KUBETRAIL_LOCAL_FINDINGS_QUEUE_URL": reader,
    }


def up(port: int, state: Path) -> None:
    state.mkdir(parents=True, exist_ok=True)
    settings = provision(start(port, state))
    env = state / "aws.env"
    env.write_text("# written by scripts/aws/emulators.py up: the moto server and what is on it\n"
                   + "".join(f"{k}={v}\n" for k, v in settings.items()))
    print(f"moto: table {settings['KUBETRAIL_DEDUP_TABLE']}, topic "
          f"{settings['KUBETRAIL_SNS_TOPIC_ARN']}, dead letters {settings['KUBETRAIL_DLQ_URL']}"
          f"; settings in {env}")


def down(state: Path) -> None:
    pidfile = state / "moto.pid"
    (state / "aws.env").unlink(missing_ok=True)
    if not pidfile.exists():
        print("moto: not started by `make emulators`; nothing to stop")
        return
    pid = int(pidfile.read_text().strip())
    cmdline = Path(f"/proc/{pid}/cmdline")
    if cmdline.exists() and b"moto_server.py" in cmdline.read_bytes():
        os.killpg(pid, signal.SIGTERM)
        for _ in range(100):
            if not cmdline.exists() or b"moto_server.py" not in cmdline.read_bytes():
                break
            time.sleep(0.1)
        else:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(pid, signal.SIGKILL)
        print(f"moto: stopped (pid {pid})")
    else:
        print(f"moto: pid {pid} is gone already")
    pidfile.unlink()


def fresh_table(state: Path) -> None:
    env = state / "aws.env"
    if not env.exists():
        raise SystemExit(f"{env} not found: run `make emulators` first")
    settings = dict(line.split("=", 1) for line in env.read_text().splitlines()
                    if "=" in line and not line.startswith("#"))
    print(dedup_table(settings["AWS_ENDPOINT_URL"], f"{NAME}-dedup-demo-{time.time_ns()}"))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("command", choices=["up", "down", "table"])
    parser.add_argument("--port", type=int, default=4566)
    parser.add_argument("--state-dir", type=Path, default=Path(".kubetrail"))
    args = parser.parse_args(argv)
    if args.command == "up":
        up(args.port, args.state_dir)
    elif args.command == "table":
        fresh_table(args.state_dir)
    else:
        down(args.state_dir)


if __name__ == "__main__":
    main()
