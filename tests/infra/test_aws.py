"""infra/aws: `terraform fmt`, `validate` with the provider found offline, checkov without an
unexplained failure, the deployable zip, and the example root APPLIED to the moto server (an
override file points the provider's endpoints at it) — then checked there resource by resource,
and planned again to show no drift."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
import zipfile
from pathlib import Path
from typing import Any

import pytest

from kubetrail.dedup.dynamodb import DynamoDBDedupStore
from tests.emulators.moto import REGION, Moto
from tests.infra.hcl import assert_no_unexplained_failure, checkov

ROOT = Path(__file__).resolve().parents[2]
MODULE, EXAMPLE = ROOT / "infra" / "aws", ROOT / "infra" / "examples" / "aws"
CHECKOV = ROOT / ".venv-tools" / "bin" / "checkov"
TERRAFORM = shutil.which("terraform")
SERVICES = ("cloudwatch", "dynamodb", "iam", "kms", "lambda", "logs", "sns", "sqs", "sts")
RUN = uuid.uuid4().hex[:6]  # unique names: the moto server may be a reused, long-running one
CLUSTERS = [f"prod-eks-{RUN}", f"dev-{RUN}"]

pytestmark = [pytest.mark.terraform, pytest.mark.aws,
              pytest.mark.skipif(TERRAFORM is None, reason="terraform is not installed")]


def terraform(*args: str, cwd: Path, timeout: int = 300) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "TF_"))}
    env.update(TF_IN_AUTOMATION="1", CHECKPOINT_DISABLE="1")
    if Path("/opt/tf-plugins").is_dir():  # offline: hashicorp/aws from the local mirror
        env["TF_CLI_CONFIG_FILE"] = str(ROOT / "infra" / "terraformrc")
    return subprocess.run([str(TERRAFORM), *args, "-no-color"], cwd=cwd, env=env, text=True,
                          capture_output=True, timeout=timeout, check=False)


@pytest.fixture(scope="module")
def workdir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A copy of the module and the example (same relative layout), initialized offline."""
    root = tmp_path_factory.mktemp("tf") / "infra"
    shutil.copytree(MODULE, root / "aws")
    shutil.copytree(EXAMPLE, root / "examples" / "aws")
    example = root / "examples" / "aws"
    result = terraform("init", "-backend=false", "-input=false", cwd=example)
    assert result.returncode == 0, result.stdout + result.stderr
    return example


def test_fmt_is_clean() -> None:
    result = terraform("fmt", "-check", "-recursive", "-diff", str(MODULE), str(EXAMPLE),
                       cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr


def test_validate_passes_offline(workdir: Path) -> None:
    result = terraform("validate", cwd=workdir)
    assert result.returncode == 0, result.stdout + result.stderr


def test_checkov_finds_no_unexplained_failure() -> None:
    result = checkov(MODULE)
    assert_no_unexplained_failure(result, min_reason=30)
    assert result.passed > 40


def test_package_is_a_zip_lambda_can_import(tmp_path: Path) -> None:
    out = tmp_path / "kubetrail-aws.zip"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "aws" / "package.py"), "--out",
                    str(out), "--sources-only"], check=True, capture_output=True, timeout=120)
    with zipfile.ZipFile(out) as zf:
        names = set(zf.namelist())
        zf.extractall(tmp_path / "x")
    assert {"handler.py", "aws_settings.py", "kubetrail/__init__.py",
            "kubetrail/packs/kubernetes/k8s_daemonset_created.yml"} <= names
    # Byte code only for the Lambda runtime's Python (when python3.12 is installed here).
    assert all(n.endswith(".cpython-312.pyc") for n in names if "__pycache__" in n)
    probe = ("import sys, handler, kubetrail; assert callable(handler.lambda_handler); "
             "assert kubetrail.__file__.startswith(sys.argv[1]); "
             "assert 'boto3' not in sys.modules")
    subprocess.run([sys.executable, "-c", probe, str(tmp_path / "x")], cwd=tmp_path / "x",
                   check=True, timeout=60)
    again = tmp_path / "again.zip"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "aws" / "package.py"), "--out",
                    str(again), "--sources-only"], check=True, capture_output=True, timeout=120)
    assert again.read_bytes() == out.read_bytes()  # reproducible: source_code_hash is stable


@pytest.fixture(scope="module")
def applied(workdir: Path, moto_server: Moto, tmp_path_factory: pytest.TempPathFactory
            ) -> dict[str, Any]:
    """`terraform apply` of the example on moto, with the EKS log groups EKS would have made."""
    endpoints = "\n".join(f'    {s} = "{moto_server.endpoint}"' for s in SERVICES)
    (workdir / "moto_override.tf").write_text(f"""
provider "aws" {{
  region                      = "{REGION}"
  access_key                  = "testing"
  secret_key                  = "testing"
  skip_credentials_validation = true
  skip_metadata_api_check     = true
  skip_region_validation      = true
  endpoints {{
{endpoints}
  }}
}}
""")
    zip_path = tmp_path_factory.mktemp("pkg") / "kubetrail-aws.zip"
    subprocess.run([sys.executable, str(ROOT / "scripts" / "aws" / "package.py"), "--out",
                    str(zip_path), "--sources-only"], check=True, capture_output=True)
    logs = moto_server.client("logs")
    for cluster in CLUSTERS:
        logs.create_log_group(logGroupName=f"/aws/eks/{cluster}/cluster")
    name = f"kt{RUN}"
    args = ["-input=false", f"-var=name={name}", f"-var=eks_cluster_names={json.dumps(CLUSTERS)}",
            "-var=deletion_protection=false", f"-var=package_path={zip_path}",
            "-var=reserved_concurrency=5"]
    result = terraform("apply", "-auto-approve", *args, cwd=workdir, timeout=600)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr
    outputs = json.loads(terraform("output", "-json", cwd=workdir).stdout)
    return {"name": name, "args": args, "moto": moto_server,
            **{k: v["value"] for k, v in outputs.items()}}


def test_function_deploys_as_specified(applied: dict[str, Any]) -> None:
    moto, name = applied["moto"], applied["name"]
    lam = moto.client("lambda")
    fn = lam.get_function(FunctionName=applied["function_name"])
    config = fn["Configuration"]
    assert (config["Runtime"], config["Architectures"], config["Handler"]) == (
        "python3.12", ["arm64"], "handler.lambda_handler")
    assert (config["MemorySize"], config["Timeout"]) == (512, 60)
    assert fn["Concurrency"]["ReservedConcurrentExecutions"] == 5
    env = config["Environment"]["Variables"]
    assert env["KUBETRAIL_DEDUP_TABLE"] == applied["dedup_table_name"]
    assert env["KUBETRAIL_SNS_TOPIC_ARN"] == applied["findings_topic_arn"]
    assert env["KUBETRAIL_DLQ_URL"] == applied["dead_letter_queue_url"]
    invoke = lam.get_function_event_invoke_config(FunctionName=name)
    assert invoke["MaximumRetryAttempts"] == 2
    dlq_arn = moto.client("sqs").get_queue_attributes(
        QueueUrl=applied["dead_letter_queue_url"], AttributeNames=["All"])["Attributes"]
    assert invoke["DestinationConfig"]["OnFailure"]["Destination"] == dlq_arn["QueueArn"]
    assert dlq_arn["KmsMasterKeyId"].endswith(moto.client("kms").describe_key(
        KeyId=f"alias/{name}")["KeyMetadata"]["KeyId"])
    policy = json.loads(lam.get_policy(FunctionName=name)["Policy"])
    assert sorted(s["Condition"]["ArnLike"]["AWS:SourceArn"] for s in policy["Statement"]) == [
        f"arn:aws:logs:{REGION}:123456789012:log-group:/aws/eks/{c}/cluster:*"
        for c in sorted(CLUSTERS)]


def test_each_cluster_audit_log_group_is_subscribed(applied: dict[str, Any]) -> None:
    logs = applied["moto"].client("logs")
    for cluster in CLUSTERS:
        (flt,) = logs.describe_subscription_filters(
            logGroupName=f"/aws/eks/{cluster}/cluster")["subscriptionFilters"]
        assert flt["destinationArn"].endswith(f":function:{applied['name']}")
        assert '$.apiVersion = "audit.k8s.io/v1"' in flt["filterPattern"]
    (group,) = logs.describe_log_groups(
        logGroupNamePrefix=f"/aws/lambda/{applied['name']}")["logGroups"]
    assert group["retentionInDays"] == 365 and group["kmsKeyId"]


def test_table_topic_and_alarms(applied: dict[str, Any]) -> None:
    moto, name = applied["moto"], applied["name"]
    ddb = moto.client("dynamodb")
    table = ddb.describe_table(TableName=applied["dedup_table_name"])["Table"]
    assert table["KeySchema"] == [{"AttributeName": DynamoDBDedupStore.KEY_ATTRIBUTE,
                                   "KeyType": "HASH"}]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["SSEDescription"]["SSEType"] == "KMS"
    ttl = ddb.describe_time_to_live(TableName=table["TableName"])["TimeToLiveDescription"]
    assert (ttl["TimeToLiveStatus"], ttl["AttributeName"]) == (
        "ENABLED", DynamoDBDedupStore.TTL_ATTRIBUTE)
    pitr = ddb.describe_continuous_backups(TableName=table["TableName"])
    assert pitr["ContinuousBackupsDescription"]["PointInTimeRecoveryDescription"][
        "PointInTimeRecoveryStatus"] == "ENABLED"
    topic = moto.client("sns").get_topic_attributes(TopicArn=applied["findings_topic_arn"])
    assert topic["Attributes"]["KmsMasterKeyId"]
    alarms = moto.client("cloudwatch").describe_alarms(AlarmNamePrefix=name)["MetricAlarms"]
    assert {(a["Namespace"], a["MetricName"]) for a in alarms} == {
        ("AWS/Lambda", "Errors"), ("AWS/SQS", "ApproximateNumberOfMessagesVisible"),
        ("AWS/Lambda", "DestinationDeliveryFailures")}
    assert {a["AlarmName"]: a["Statistic"] for a in alarms} == {
        f"{name}-function-errors": "Sum", f"{name}-dead-letters": "Maximum",
        f"{name}-destination-delivery-failures": "Sum"}


def test_no_policy_grants_a_wildcard_action_or_a_wildcard_resource(
        applied: dict[str, Any]) -> None:
    moto, name = applied["moto"], applied["name"]
    role = moto.client("iam").get_role_policy(RoleName=f"{name}-function",
                                              PolicyName=f"{name}-function")
    statements = role["PolicyDocument"]["Statement"]
    kms = moto.client("kms")
    key_id = kms.describe_key(KeyId=f"alias/{name}")["KeyMetadata"]["KeyId"]
    key_policy = json.loads(kms.get_key_policy(KeyId=key_id, PolicyName="default")["Policy"])[
        "Statement"]
    for s in [*statements, *key_policy]:
        actions = [s["Action"]] if isinstance(s["Action"], str) else s["Action"]
        assert not any(a == "*" or a.endswith(":*") for a in actions), s
    for s in statements:  # the role: every action on a named resource
        resources = [s["Resource"]] if isinstance(s["Resource"], str) else s["Resource"]
        assert "*" not in resources, s
    assert {a for s in statements for a in (
        [s["Action"]] if isinstance(s["Action"], str) else s["Action"])} == {
        "logs:CreateLogStream", "logs:PutLogEvents", "dynamodb:PutItem", "dynamodb:UpdateItem",
        "dynamodb:DeleteItem", "sns:Publish", "sqs:SendMessage", "kms:Decrypt", "kms:Encrypt",
        "kms:GenerateDataKey", "kms:DescribeKey"}


def test_a_second_plan_shows_no_drift(applied: dict[str, Any], workdir: Path) -> None:
    result = terraform("plan", "-detailed-exitcode", *applied["args"], cwd=workdir)
    assert result.returncode == 0, result.stdout[-5000:] + result.stderr
