variable "project_id" {
  description = "Project that runs kubetrail (topics, function, Firestore). For a project-level sink, also the project whose GKE audit logs are read."
  type        = string
}

variable "region" {
  description = "Region of the function, its Eventarc trigger and the source bucket."
  type        = string
  default     = "us-central1"
}

variable "name" {
  description = "Prefix of every resource name (lower-case letters, digits, hyphens)."
  type        = string
  default     = "kubetrail"
  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{2,19}$", var.name))
    error_message = "name: 3-20 lower-case letters, digits or hyphens, starting with a letter."
  }
}

variable "source_zip" {
  description = "The function's source zip, built by `make package-gcp` (.build/kubetrail-gcp.zip)."
  type        = string
}

variable "sink_scope" {
  description = "Where the Log Router sink lives: project (this project's clusters), folder or organization (an aggregated sink over every project below it)."
  type        = string
  default     = "project"
  validation {
    condition     = contains(["project", "folder", "organization"], var.sink_scope)
    error_message = "sink_scope must be project, folder or organization."
  }
}

variable "sink_parent_id" {
  description = "Folder id (folders/123 or 123) or organization id, for sink_scope folder/organization."
  type        = string
  default     = null
}

variable "include_data_access" {
  description = "Also route Data Access audit logs (reads; must be enabled for k8s.io in the IAM audit config). Admin Activity logs are always routed."
  type        = bool
  default     = false
}

variable "dedup_collection" {
  description = "Firestore collection of the dedup windows (TTL policy on its expires_at field)."
  type        = string
  default     = "kubetrail-dedup"
}

variable "firestore_database" {
  description = "Firestore database for the dedup windows."
  type        = string
  default     = "(default)"
}

variable "create_firestore_database" {
  description = "Create the Firestore database (false when the project already has it)."
  type        = bool
  default     = true
}

variable "firestore_location" {
  description = "Firestore location (a region or multi-region such as nam5); defaults to var.region."
  type        = string
  default     = null
}

variable "kms_key_name" {
  description = "Cloud KMS key for the topics (CMEK); null keeps Google-managed encryption."
  type        = string
  default     = null
}

variable "max_instances" {
  description = "Upper bound on concurrent function instances."
  type        = number
  default     = 20
}

variable "function_timeout_seconds" {
  description = "Function timeout; the Pub/Sub/Firestore call timeout (KUBETRAIL_TIMEOUT_SECONDS) is kept well below it."
  type        = number
  default     = 120
}

variable "max_delivery_attempts" {
  description = "Deliveries of one audit message before the trigger subscription dead-letters it (5-100)."
  type        = number
  default     = 20
}

variable "configure_trigger_dead_letter" {
  description = "Set the dead-letter policy on the Eventarc-managed trigger subscription with gcloud at apply time (the google provider cannot)."
  type        = bool
  default     = true
}

variable "labels" {
  description = "Labels on every resource that takes them."
  type        = map(string)
  default     = { app = "kubetrail" }
}

variable "rules_config" {
  description = "Rules configuration passed as KUBETRAIL_CONFIG: a path inside the function package (make package-<cloud> RULES_CONFIG=FILE puts the file there as kubetrail-config.yml) or an absolute path. Empty: the bundled rules as shipped. See docs/rules.md."
  type        = string
  default     = ""

  validation {
    condition     = var.rules_config == "" || can(regex("^/?[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$", var.rules_config))
    error_message = "rules_config: a path inside the function package (e.g. kubetrail-config.yml) or an absolute path."
  }
}
