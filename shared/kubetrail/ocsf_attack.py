"""MITRE ATT&CK names for OCSF's `attacks` objects (OCSF requires a technique's name).

Only the enterprise tactics and the techniques Kubernetes detections report are named here; an
id this table does not know keeps its id as its name rather than being dropped.
"""

from __future__ import annotations

from typing import Any

TACTICS = {
    "TA0001": "Initial Access", "TA0002": "Execution", "TA0003": "Persistence",
    "TA0004": "Privilege Escalation", "TA0005": "Defense Evasion", "TA0006": "Credential Access",
    "TA0007": "Discovery", "TA0008": "Lateral Movement", "TA0009": "Collection",
    "TA0010": "Exfiltration", "TA0011": "Command and Control", "TA0040": "Impact",
    "TA0042": "Resource Development", "TA0043": "Reconnaissance",
}
TECHNIQUES = {
    "T1021": "Remote Services", "T1046": "Network Service Discovery",
    "T1053": "Scheduled Task/Job", "T1053.007": "Container Orchestration Job",
    "T1059": "Command and Scripting Interpreter", "T1069": "Permission Groups Discovery",
    "T1070": "Indicator Removal", "T1078": "Valid Accounts", "T1078.001": "Default Accounts",
    "T1078.004": "Cloud Accounts", "T1087": "Account Discovery", "T1090": "Proxy",
    "T1098": "Account Manipulation", "T1098.001": "Additional Cloud Credentials",
    "T1098.006": "Additional Container Cluster Roles", "T1105": "Ingress Tool Transfer",
    "T1110": "Brute Force", "T1133": "External Remote Services",
    "T1190": "Exploit Public-Facing Application", "T1204": "User Execution",
    "T1496": "Resource Hijacking", "T1525": "Implant Internal Image",
    "T1528": "Steal Application Access Token", "T1543": "Create or Modify System Process",
    "T1550": "Use Alternate Authentication Material", "T1550.001": "Application Access Token",
    "T1552": "Unsecured Credentials", "T1552.001": "Credentials In Files",
    "T1552.007": "Container API", "T1555": "Credentials from Password Stores",
    "T1556": "Modify Authentication Process", "T1562": "Impair Defenses",
    "T1562.001": "Disable or Modify Tools", "T1572": "Protocol Tunneling",
    "T1578": "Modify Cloud Compute Infrastructure", "T1609": "Container Administration Command",
    "T1610": "Deploy Container", "T1611": "Escape to Host", "T1612": "Build Image on Host",
    "T1613": "Container and Resource Discovery",
    "T1649": "Steal or Forge Authentication Certificates",
}
_BASE_URL = "https://attack.mitre.org"


def attack(tactic: Any, technique: Any) -> dict[str, Any]:
    """One OCSF `attack` object: the tactic, the technique and, for `Txxxx.yyy`, the
    sub-technique under its parent technique."""
    out: dict[str, Any] = {}
    if isinstance(tactic, str) and tactic:
        out["tactic"] = {"uid": tactic, "name": TACTICS.get(tactic, tactic),
                         "src_url": f"{_BASE_URL}/tactics/{tactic}/"}
    if isinstance(technique, str) and technique:
        parent, _, sub = technique.partition(".")
        out["technique"] = {"uid": parent, "name": TECHNIQUES.get(parent, parent),
                            "src_url": f"{_BASE_URL}/techniques/{parent}/"}
        if sub:
            out["sub_technique"] = {"uid": technique, "name": TECHNIQUES.get(technique, technique),
                                    "src_url": f"{_BASE_URL}/techniques/{parent}/{sub}/"}
    return out
