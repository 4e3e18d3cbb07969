"""SNS Publisher: one message per finding on the findings topic.

* Body: the finding document (`Finding.to_json()`), kept under SNS's 256 KiB, which counts body,
  subject and attributes together; a body that would not fit is cut again with the marker.
* Message attributes (String): `rule_id`, `severity`, `cluster`, `cloud`, for subscription filter
  policies. Values are attacker-reachable (a cluster name comes from the log group, a title from a
  username), so they are stripped of control characters and bounded in length.
* Subject: `[SEVERITY] title`, ASCII only, no control characters, under SNS's 100 characters.
* Several findings go out with PublishBatch (up to 10 entries and 256 KiB per request); every
  entry's failure becomes that finding's PublishResult. Unreachable service → PublishError.
"""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence
from typing import Any

from kubetrail.errors import ConfigError
from kubetrail.findings import Finding, cap_document
from kubetrail.publish.base import PublishResult
from kubetrail.sdk.aws import (
    MAX_MESSAGE_BYTES,
    LazyClient,
    attributes_size,
    batch_indexes,
    clean_attribute,
    error_code,
    has_forbidden_chars,
    translate,
)

MAX_SUBJECT_CHARS = 99
ATTRIBUTES = ("rule_id", "severity", "cluster", "cloud")
# A per-message problem: report it on that finding and let the rest of the batch go on.
_PER_MESSAGE_CODES = frozenset({"InvalidParameter", "InvalidParameterValue",
                                "ParameterValueInvalid", "ValidationError"})


def subject(finding: Finding) -> str:
    """`[SEVERITY] title` as SNS accepts it: printable ASCII, starting with a non-space, < 100."""
    text = unicodedata.normalize("NFKD", f"[{finding.severity}] {finding.title}")
    ascii_text = "".join(c if " " <= c <= "~" else ("" if unicodedata.combining(c) else "?")
                         for c in text)
    ascii_text = " ".join(ascii_text.split())
    if len(ascii_text) > MAX_SUBJECT_CHARS:
        ascii_text = ascii_text[: MAX_SUBJECT_CHARS - 3] + "..."
    return ascii_text or "kubetrail finding"


def attributes(finding: Finding) -> dict[str, dict[str, str]]:
    """The four filterable message attributes, cleaned."""
    values = {"rule_id": finding.rule_id, "severity": finding.severity,
              "cluster": finding.cluster, "cloud": finding.cloud}
    return {k: {"DataType": "String", "StringValue": clean_attribute(values[k])}
            for k in ATTRIBUTES}


def _size(entry: dict[str, Any]) -> int:
    return (len(entry["Message"].encode()) + len(entry["Subject"].encode())
            + attributes_size(entry["MessageAttributes"]))


def message(finding: Finding) -> dict[str, Any]:
    """One PublishBatch entry (without Id) for the finding, within the per-message limit."""
    entry: dict[str, Any] = {"Message": finding.to_json().decode(), "Subject": subject(finding),
                             "MessageAttributes": attributes(finding)}
    if has_forbidden_chars(entry["Message"]):  # e.g. U+FFFF in a username: SQS would refuse
        entry["Message"] = json.dumps(finding.document, ensure_ascii=True)
    limit = MAX_MESSAGE_BYTES - 1024
    while _size(entry) > limit:  # the document was capped for the body alone; cap it again
        limit -= 16 * 1024
        doc = cap_document(dict(finding.document), limit=limit)
        entry["Message"] = json.dumps(doc, ensure_ascii=True)
    return entry


class SnsPublisher:
    """Publishes findings to one SNS topic (standard topic; `client` injectable for tests)."""

    def __init__(self, topic_arn: str, *, client: Any | None = None) -> None:
        if not topic_arn.startswith("arn:"):
            raise ConfigError(f"not an SNS topic ARN: {topic_arn!r}")
        self.topic_arn = topic_arn
        self._client = LazyClient("sns", client)

    def publish(self, findings: Sequence[Finding]) -> Sequence[PublishResult]:
        """Publish every finding; one result per finding, in order."""
        entries = [message(f) for f in findings]
        if len(entries) == 1:
            return [self._publish_one(findings[0], entries[0])]
        results: list[PublishResult] = []
        for chunk in batch_indexes([_size(e) for e in entries]):
            results.extend(self._publish_batch([findings[i] for i in chunk],
                                               [entries[i] for i in chunk]))
        return results

    def _publish_one(self, finding: Finding, entry: dict[str, Any]) -> PublishResult:
        try:
            self._client.get().publish(TopicArn=self.topic_arn, **entry)
        except Exception as exc:
            if error_code(exc) in _PER_MESSAGE_CODES:
                return PublishResult(finding.id, f"{error_code(exc)}: {exc}")
            raise translate(exc, f"sns publish to {self.topic_arn}") from exc
        return PublishResult(finding.id)

    def _publish_batch(self, findings: list[Finding], entries: list[dict[str, Any]]
                       ) -> list[PublishResult]:
        request = [{"Id": str(i), **e} for i, e in enumerate(entries)]
        try:
            response = self._client.get().publish_batch(TopicArn=self.topic_arn,
                                                        PublishBatchRequestEntries=request)
        except Exception as exc:
            raise translate(exc, f"sns publish_batch to {self.topic_arn}") from exc
        ok = {str(s["Id"]) for s in response.get("Successful", [])}
        failed = {str(f["Id"]): f"{f.get('Code')}: {f.get('Message', '')}"
                  for f in response.get("Failed", [])}
        return [PublishResult(f.id, None if str(i) in ok else
                              failed.get(str(i), "no result for this entry"))
                for i, f in enumerate(findings)]

