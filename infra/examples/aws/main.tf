# Example root: deploy kubetrail for your EKS clusters.
#
#   make package-aws
#   terraform -chdir=infra/examples/aws init
#   terraform -chdir=infra/examples/aws apply -var 'eks_cluster_names=["prod-eks-01"]'

terraform {
  required_version = ">= 1.5"

  required_providers {
    aws = {
      source  = "hashicorp/aws"
      version = ">= 5.40, < 6.0"
    }
  }
}

provider "aws" {
  region = var.region

  default_tags {
    tags = { "managed-by" = "terraform" }
  }
}

module "kubetrail" {
  source = "../../aws"

  name                 = var.name
  eks_cluster_names    = var.eks_cluster_names
  package_path         = coalesce(var.package_path, "${path.root}/../../../.build/aws/kubetrail-aws.zip")
  alarm_actions        = var.alarm_actions
  reserved_concurrency = var.reserved_concurrency
  deletion_protection  = var.deletion_protection
}

variable "region" {
  description = "AWS region of the EKS clusters (a subscription filter's function must be in the log group's region)."
  type        = string
  default     = "eu-west-1"
}

variable "name" {
  description = "Prefix of every resource name."
  type        = string
  default     = "kubetrail"
}

variable "eks_cluster_names" {
  description = "EKS clusters (with audit logging enabled) to analyse."
  type        = list(string)
}

variable "package_path" {
  description = "Deployment zip; defaults to the one `make package-aws` builds."
  type        = string
  default     = null
}

variable "alarm_actions" {
  description = "ARNs (e.g. an on-call SNS topic) notified by the alarms."
  type        = list(string)
  default     = []
}

variable "reserved_concurrency" {
  description = "Reserved concurrency of the function, or null."
  type        = number
  default     = null
}

variable "deletion_protection" {
  description = "Protect the dedup table against deletion."
  type        = bool
  default     = true
}

output "findings_topic_arn" {
  description = "Subscribe to findings here."
  value       = module.kubetrail.findings_topic_arn
}

output "dedup_table_name" {
  description = "DynamoDB dedup table."
  value       = module.kubetrail.dedup_table_name
}

output "dead_letter_queue_url" {
  description = "Dead-letter queue."
  value       = module.kubetrail.dead_letter_queue_url
}

output "function_name" {
  description = "Lambda function."
  value       = module.kubetrail.function_name
}
