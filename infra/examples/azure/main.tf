# Example: kubetrail for two AKS clusters in West Europe.
#   make package-azure
#   terraform -chdir=infra/examples/azure init
#   terraform -chdir=infra/examples/azure apply -var resource_group_name=rg-security \
#     -var 'aks_cluster_ids=["/subscriptions/…/resourceGroups/rg-aks/providers/Microsoft.ContainerService/managedClusters/prod"]'

terraform {
  required_version = ">= 1.6"
  required_providers {
    azurerm = {
      source  = "hashicorp/azurerm"
      version = "~> 4.77"
    }
  }
}

provider "azurerm" {
  features {}
  # The storage account accepts no shared keys: manage tables and queues with Entra ID too.
  storage_use_azuread = true
}

variable "resource_group_name" {
  description = "Existing resource group to deploy kubetrail into."
  type        = string
}

variable "location" {
  description = "Region of the AKS clusters."
  type        = string
  default     = "westeurope"
}

variable "aks_cluster_ids" {
  description = "AKS clusters to watch."
  type        = list(string)
  default     = []
}

module "kubetrail" {
  source               = "../../azure"
  resource_group_name  = var.resource_group_name
  location             = var.location
  aks_cluster_ids      = var.aks_cluster_ids
  audit_log_categories = ["kube-audit-admin"]
  package_path         = "${path.root}/../../../.build/kubetrail-azure.zip"
  tags                 = { app = "kubetrail" }
}

output "eventgrid_topic_endpoint" {
  description = "Subscribe to this topic for kubetrail.finding events."
  value       = module.kubetrail.eventgrid_topic_endpoint
}

output "deadletter_queue" {
  description = "Where undecodable records go."
  value       = module.kubetrail.deadletter_queue
}
