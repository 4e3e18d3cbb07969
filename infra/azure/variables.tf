variable "name" {
  description = "Prefix of every resource name (lower-case letters and digits, 3-11 characters: the storage account name is built from it)."
  type        = string
  default     = "kubetrail"
  validation {
    condition     = can(regex("^[a-z][a-z0-9]{2,10}$", var.name))
    error_message = "name must be 3-11 lower-case letters and digits, starting with a letter."
  }
}

variable "resource_group_name" {
  description = "Existing resource group to deploy into."
  type        = string
}

variable "location" {
  description = "Azure region: the same as the AKS clusters' (diagnostic settings stream only to an Event Hub in the cluster's region)."
  type        = string
}

variable "aks_cluster_ids" {
  description = "Resource ids of the AKS clusters whose audit logs are streamed (one diagnostic setting each)."
  type        = list(string)
  default     = []
}

variable "audit_log_categories" {
  description = "AKS diagnostic categories to stream: kube-audit-admin (writes only, the default) and/or kube-audit (reads too, far more volume)."
  type        = list(string)
  default     = ["kube-audit-admin"]
  validation {
    condition     = length(var.audit_log_categories) > 0 && alltrue([for c in var.audit_log_categories : contains(["kube-audit", "kube-audit-admin"], c)])
    error_message = "audit_log_categories may hold only kube-audit and kube-audit-admin."
  }
}

variable "package_path" {
  description = "The deployment zip built by `make package-azure` (.build/kubetrail-azure.zip)."
  type        = string
}

variable "python_version" {
  description = "Python version of the Function App (3.11 or later)."
  type        = string
  default     = "3.11"
}

variable "service_plan_sku" {
  description = "App Service plan SKU (dedicated Linux plan: no Azure Files content share, so the app needs no storage key)."
  type        = string
  default     = "B1"
}

variable "eventhub_partition_count" {
  description = "Partitions of the audit Event Hub (upper bound on concurrent function instances)."
  type        = number
  default     = 4
}

variable "eventhub_retention_days" {
  description = "How long the Event Hub keeps events: the window in which a failed batch can still be retried."
  type        = number
  default     = 7
}

variable "dedup_table_name" {
  description = "Table Storage table of dedup windows."
  type        = string
  default     = "kubetraildedup"
}

variable "deadletter_queue_name" {
  description = "Storage queue receiving records that could not be decoded."
  type        = string
  default     = "kubetrail-deadletter"
}

variable "log_retention_days" {
  description = "Retention of the Log Analytics workspace behind Application Insights."
  type        = number
  default     = 30
}

variable "tags" {
  description = "Tags for every resource."
  type        = map(string)
  default     = {}
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
