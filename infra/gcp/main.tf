# kubetrail on GCP: a Log Router sink sends GKE audit LogEntries (k8s.io, Admin Activity and
# optionally Data Access) to a Pub/Sub topic; a Cloud Function (2nd gen, Python 3.12) triggered
# by Eventarc on that topic keeps dedup windows in Firestore and publishes findings to a Pub/Sub
# topic. The function runs as its own service account with publish rights on two topics and
# Firestore access to one database; the sink's writer identity may only publish to one topic.

data "google_project" "this" {
  project_id = var.project_id
}

locals {
  audit_logs = var.include_data_access ? [
    "cloudaudit.googleapis.com/activity", "cloudaudit.googleapis.com/data_access"
  ] : ["cloudaudit.googleapis.com/activity"]
  audit_filter = join(" AND ", [
    "resource.type=\"k8s_cluster\"",
    "protoPayload.serviceName=\"k8s.io\"",
    "(${join(" OR ", [for log in local.audit_logs : "LOG_ID(\"${log}\")"])})",
  ])
  sink_destination = "pubsub.googleapis.com/${google_pubsub_topic.audit.id}"
  sink_writer_identity = one(concat(
    google_logging_project_sink.audit[*].writer_identity,
    google_logging_folder_sink.audit[*].writer_identity,
    google_logging_organization_sink.audit[*].writer_identity,
  ))
  pubsub_service_agent = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
  apis = toset([
    "cloudbuild.googleapis.com", "cloudfunctions.googleapis.com", "eventarc.googleapis.com",
    "firestore.googleapis.com", "logging.googleapis.com", "pubsub.googleapis.com",
    "run.googleapis.com", "artifactregistry.googleapis.com", "storage.googleapis.com",
  ])
}

resource "google_project_service" "apis" {
  for_each           = local.apis
  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}

# --- topics ----------------------------------------------------------------------------------
resource "google_pubsub_topic" "audit" {
  #checkov:skip=CKV_GCP_83:CMEK is opt-in (var.kms_key_name); by default Google-managed keys encrypt audit entries that Cloud Logging already holds.
  project                    = var.project_id
  name                       = "${var.name}-gke-audit"
  kms_key_name               = var.kms_key_name
  message_retention_duration = "86400s"
  labels                     = var.labels
  depends_on                 = [google_project_service.apis]
}

resource "google_pubsub_topic" "findings" {
  #checkov:skip=CKV_GCP_83:CMEK is opt-in (var.kms_key_name); findings hold audit metadata, no secrets.
  project      = var.project_id
  name         = "${var.name}-findings"
  kms_key_name = var.kms_key_name
  labels       = var.labels
  depends_on   = [google_project_service.apis]
}

# Undecodable records (the function's dead-letter documents) and audit messages the trigger
# subscription gave up on (after max_delivery_attempts) both land here.
resource "google_pubsub_topic" "deadletter" {
  #checkov:skip=CKV_GCP_83:CMEK is opt-in (var.kms_key_name), as for the other topics.
  project      = var.project_id
  name         = "${var.name}-deadletter"
  kms_key_name = var.kms_key_name
  labels       = var.labels
  depends_on   = [google_project_service.apis]
}

# A topic without a subscription drops what is published: keep findings and dead letters for
# a week even before anyone subscribes.
resource "google_pubsub_subscription" "keep" {
  for_each                   = { findings = google_pubsub_topic.findings.id, deadletter = google_pubsub_topic.deadletter.id }
  project                    = var.project_id
  name                       = "${var.name}-${each.key}"
  topic                      = each.value
  ack_deadline_seconds       = 60
  message_retention_duration = "604800s"
  labels                     = var.labels
  expiration_policy {
    ttl = ""
  }
}

# --- Log Router sink: project, or aggregated over a folder / the organization ----------------
resource "google_logging_project_sink" "audit" {
  count                  = var.sink_scope == "project" ? 1 : 0
  project                = var.project_id
  name                   = "${var.name}-gke-audit"
  destination            = local.sink_destination
  filter                 = local.audit_filter
  unique_writer_identity = true
}

resource "google_logging_folder_sink" "audit" {
  count            = var.sink_scope == "folder" ? 1 : 0
  folder           = var.sink_parent_id
  name             = "${var.name}-gke-audit"
  destination      = local.sink_destination
  filter           = local.audit_filter
  include_children = true
  lifecycle {
    precondition {
      condition     = var.sink_parent_id != null
      error_message = "sink_scope = folder needs sink_parent_id (the folder id)."
    }
  }
}

resource "google_logging_organization_sink" "audit" {
  count            = var.sink_scope == "organization" ? 1 : 0
  org_id           = var.sink_parent_id
  name             = "${var.name}-gke-audit"
  destination      = local.sink_destination
  filter           = local.audit_filter
  include_children = true
  lifecycle {
    precondition {
      condition     = var.sink_parent_id != null
      error_message = "sink_scope = organization needs sink_parent_id (the organization id)."
    }
  }
}

resource "google_pubsub_topic_iam_member" "sink_writer_publishes_audit" {
  project = var.project_id
  topic   = google_pubsub_topic.audit.name
  role    = "roles/pubsub.publisher"
  member  = local.sink_writer_identity
}

# --- Firestore: the dedup windows, expired by a TTL policy on expires_at ----------------------
resource "google_firestore_database" "kubetrail" {
  count       = var.create_firestore_database ? 1 : 0
  project     = var.project_id
  name        = var.firestore_database
  location_id = coalesce(var.firestore_location, var.region)
  type        = "FIRESTORE_NATIVE"
  # The store writes with preconditions (create / update_time): it needs no pessimistic locks.
  concurrency_mode                  = "OPTIMISTIC"
  point_in_time_recovery_enablement = "POINT_IN_TIME_RECOVERY_ENABLED"
  delete_protection_state           = "DELETE_PROTECTION_ENABLED"
  deletion_policy                   = "ABANDON"
  depends_on                        = [google_project_service.apis]
}

resource "google_firestore_field" "dedup_ttl" {
  project    = var.project_id
  database   = var.firestore_database
  collection = var.dedup_collection
  field      = "expires_at"
  ttl_config {}
  index_config {} # only for the TTL policy: no single-field index
  depends_on = [google_firestore_database.kubetrail]
}
