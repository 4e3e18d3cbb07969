# --- the function's source: a private, versioned bucket; the object name follows the zip's MD5
resource "google_storage_bucket" "source" {
  #checkov:skip=CKV_GCP_62:Access logs of the source bucket add little: only Cloud Build reads it, and Admin Activity audit logs record every change.
  project                     = var.project_id
  name                        = "${var.project_id}-${var.name}-source"
  location                    = var.region
  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false
  labels                      = var.labels
  versioning {
    enabled = true
  }
  lifecycle_rule {
    condition {
      num_newer_versions = 3
    }
    action {
      type = "Delete"
    }
  }
  depends_on = [google_project_service.apis]
}

resource "google_storage_bucket_object" "source" {
  name   = "kubetrail-gcp-${filemd5(var.source_zip)}.zip"
  bucket = google_storage_bucket.source.name
  source = var.source_zip
}

resource "google_cloudfunctions2_function" "kubetrail" {
  project     = var.project_id
  name        = var.name
  location    = var.region
  description = "kubetrail: GKE audit LogEntries -> Kubernetes detection findings"
  labels      = var.labels

  build_config {
    runtime     = "python312"
    entry_point = "handle"
    source {
      storage_source {
        bucket = google_storage_bucket.source.name
        object = google_storage_bucket_object.source.name
      }
    }
  }

  service_config {
    min_instance_count               = 0
    max_instance_count               = var.max_instances
    max_instance_request_concurrency = 1
    available_memory                 = "512Mi"
    available_cpu                    = "1"
    timeout_seconds                  = var.function_timeout_seconds
    ingress_settings                 = "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision   = true
    service_account_email            = google_service_account.function.email
    environment_variables = {
      GOOGLE_CLOUD_PROJECT         = var.project_id
      KUBETRAIL_DEDUP_COLLECTION   = var.dedup_collection
      KUBETRAIL_FINDINGS_TOPIC     = google_pubsub_topic.findings.id
      KUBETRAIL_DEADLETTER_TOPIC   = google_pubsub_topic.deadletter.id
      KUBETRAIL_FIRESTORE_DATABASE = var.firestore_database
      # Each Firestore / Pub/Sub call gives up well before the function times out, so a
      # failed batch releases its claims and raises (Pub/Sub redelivers) instead of being killed.
      KUBETRAIL_TIMEOUT_SECONDS = tostring(floor(var.function_timeout_seconds / 4))
      # Rules configuration packaged with the function (empty: the bundled rules as shipped).
      KUBETRAIL_CONFIG = var.rules_config
    }
  }

  event_trigger {
    trigger_region        = var.region
    event_type            = "google.cloud.pubsub.topic.v1.messagePublished"
    pubsub_topic          = google_pubsub_topic.audit.id
    retry_policy          = "RETRY_POLICY_RETRY"
    service_account_email = google_service_account.trigger.email
  }

  depends_on = [
    google_pubsub_topic_iam_member.function_publishes,
    google_project_iam_member.function_uses_firestore,
    google_firestore_field.dedup_ttl,
  ]
}

# Eventarc creates the trigger's push subscription itself and the google provider cannot set its
# dead-letter policy, so gcloud does it once the trigger exists (and again when it changes).
resource "terraform_data" "trigger_dead_letter" {
  count = var.configure_trigger_dead_letter ? 1 : 0
  triggers_replace = [
    google_cloudfunctions2_function.kubetrail.event_trigger[0].trigger,
    google_pubsub_topic.deadletter.id,
    var.max_delivery_attempts,
  ]
  provisioner "local-exec" {
    command = "bash ${path.module}/scripts/trigger-dead-letter.sh"
    environment = {
      TRIGGER               = google_cloudfunctions2_function.kubetrail.event_trigger[0].trigger
      DEAD_LETTER_TOPIC     = google_pubsub_topic.deadletter.id
      MAX_DELIVERY_ATTEMPTS = tostring(var.max_delivery_attempts)
      PUBSUB_SERVICE_AGENT  = local.pubsub_service_agent
    }
  }
  depends_on = [google_pubsub_topic_iam_member.pubsub_agent_dead_letters]
}

# --- metrics from the function's structured log lines (jsonPayload.kubetrail) ----------------
resource "google_logging_metric" "records" {
  for_each = toset(["failed", "findings", "deduplicated", "rule_errors"])
  project  = var.project_id
  name     = "${var.name}/${each.value}"
  filter   = "resource.type=\"cloud_run_revision\" AND resource.labels.service_name=\"${var.name}\" AND jsonPayload.kubetrail.${each.value}>0"
  metric_descriptor {
    metric_kind = "DELTA"
    value_type  = "DISTRIBUTION"
    unit        = "1"
  }
  value_extractor = "EXTRACT(jsonPayload.kubetrail.${each.value})"
  bucket_options {
    exponential_buckets {
      num_finite_buckets = 8
      growth_factor      = 2
      scale              = 1
    }
  }
}
