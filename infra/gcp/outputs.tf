output "audit_topic" {
  description = "The topic the Log Router sink publishes GKE audit LogEntries to."
  value       = google_pubsub_topic.audit.id
}

output "findings_topic" {
  description = "Subscribe here for findings (data: the finding JSON; attributes rule_id, severity, cluster, cloud, finding_id)."
  value       = google_pubsub_topic.findings.id
}

output "findings_subscription" {
  description = "A pull subscription on the findings topic that keeps findings for 7 days."
  value       = google_pubsub_subscription.keep["findings"].id
}

output "deadletter_topic" {
  description = "Undecodable records and audit messages that could not be delivered."
  value       = google_pubsub_topic.deadletter.id
}

output "deadletter_subscription" {
  description = "A pull subscription on the dead-letter topic that keeps messages for 7 days."
  value       = google_pubsub_subscription.keep["deadletter"].id
}

output "function_name" {
  description = "The Cloud Function (2nd gen)."
  value       = google_cloudfunctions2_function.kubetrail.name
}

output "function_service_account" {
  description = "The identity the function runs as."
  value       = google_service_account.function.email
}

output "sink_writer_identity" {
  description = "The Log Router sink's writer identity (granted publish on the audit topic)."
  value       = local.sink_writer_identity
}
