# Example: kubetrail for the GKE clusters of one project.
#   make package-gcp
#   terraform -chdir=infra/examples/gcp init
#   terraform -chdir=infra/examples/gcp apply -var project_id=my-security-project
# For every cluster of a folder or the organization, add
#   -var sink_scope=folder -var sink_parent_id=folders/123456789

terraform {
  required_version = ">= 1.6"
  required_providers {
    google = {
      source  = "hashicorp/google"
      version = ">= 6.10, < 8.0"
    }
  }
}

provider "google" {
  project = var.project_id
  region  = var.region
}

variable "project_id" {
  description = "Project to deploy kubetrail into (and, with the project sink, to watch)."
  type        = string
}

variable "region" {
  description = "Region of the function."
  type        = string
  default     = "europe-west1"
}

variable "sink_scope" {
  description = "project, folder or organization."
  type        = string
  default     = "project"
}

variable "sink_parent_id" {
  description = "Folder or organization id for an aggregated sink."
  type        = string
  default     = null
}

module "kubetrail" {
  source              = "../../gcp"
  project_id          = var.project_id
  region              = var.region
  source_zip          = "${path.root}/../../../.build/kubetrail-gcp.zip"
  sink_scope          = var.sink_scope
  sink_parent_id      = var.sink_parent_id
  include_data_access = false
  labels              = { app = "kubetrail" }
}

output "findings_topic" {
  description = "Subscribe to this topic for findings."
  value       = module.kubetrail.findings_topic
}

output "findings_subscription" {
  description = "Or pull them from here (kept 7 days)."
  value       = module.kubetrail.findings_subscription
}

output "deadletter_subscription" {
  description = "Where undecodable records and undeliverable audit messages go."
  value       = module.kubetrail.deadletter_subscription
}
