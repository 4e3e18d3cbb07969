# Least privilege: two dedicated service accounts, every grant scoped to one resource
# (or, for Firestore, which has no per-collection IAM, conditioned on the one database).

resource "google_service_account" "function" {
  project      = var.project_id
  account_id   = "${var.name}-fn"
  display_name = "kubetrail function (GKE audit -> findings)"
}

resource "google_service_account" "trigger" {
  project      = var.project_id
  account_id   = "${var.name}-trigger"
  display_name = "kubetrail Eventarc trigger (invokes the function)"
}

resource "google_pubsub_topic_iam_member" "function_publishes" {
  for_each = { findings = google_pubsub_topic.findings.name, deadletter = google_pubsub_topic.deadletter.name }
  project  = var.project_id
  topic    = each.value
  role     = "roles/pubsub.publisher"
  member   = google_service_account.function.member
}

resource "google_project_iam_member" "function_uses_firestore" {
  project = var.project_id
  role    = "roles/datastore.user"
  member  = google_service_account.function.member
  condition {
    title       = "kubetrail-dedup-database-only"
    description = "Firestore access limited to the dedup database"
    expression  = "resource.name.startsWith(\"projects/${var.project_id}/databases/${var.firestore_database}\")"
  }
}

# The trigger's identity may invoke this function's Cloud Run service and nothing else.
resource "google_cloud_run_v2_service_iam_member" "trigger_invokes" {
  project  = var.project_id
  location = var.region
  name     = google_cloudfunctions2_function.kubetrail.name
  role     = "roles/run.invoker"
  member   = google_service_account.trigger.member
}

# Pub/Sub's service agent forwards messages the trigger subscription gave up on.
resource "google_pubsub_topic_iam_member" "pubsub_agent_dead_letters" {
  project = var.project_id
  topic   = google_pubsub_topic.deadletter.name
  role    = "roles/pubsub.publisher"
  member  = local.pubsub_service_agent
}
