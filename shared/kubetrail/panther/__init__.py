"""Panther rule files, unchanged, in kubetrail: the event a Panther rule receives, the helpers and
data models of a panther-analysis checkout (`--panther-root`), the rule adapter and the test
runner. Written from Panther's public documentation and the behaviour panther-analysis's own
(Apache-2.0) files rely on; nothing here comes from Panther's AGPL `panther_core` package.

  event       PantherEvent: the read-only, case-insensitive mapping a rule function receives
  helpers     PantherRoot: global_helpers importable by their own names, isolated per root
  datamodels  data_models/ per log type, answering event.udm(...)
  records     the record Panther stores for a live delivery (with its p_ fields)
  rules       Panther rule file → kubetrail Rule (Panther's defaults and fallbacks)
  requires    the Requires kubetrail ships for panther-analysis's Kubernetes rules (prefilter)
  testing     a rule's Tests with ExpectedResult and Mocks, as Panther's tool runs them
"""
