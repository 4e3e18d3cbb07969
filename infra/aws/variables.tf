variable "name" {
  description = "Prefix of every resource name (function, role, table, topic, queue, key alias, alarms)."
  type        = string
  default     = "kubetrail"

  validation {
    condition     = can(regex("^[A-Za-z][A-Za-z0-9-]{0,39}$", var.name))
    error_message = "name: a letter, then up to 39 letters, digits or hyphens."
  }
}

variable "eks_cluster_names" {
  description = "EKS clusters whose audit logs are analysed. Each needs control-plane logging of type \"audit\" enabled, so that the log group /aws/eks/<name>/cluster exists; the module adds a subscription filter on it and the permission for CloudWatch Logs to invoke the function."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for c in var.eks_cluster_names : can(regex("^[0-9A-Za-z][A-Za-z0-9_-]{0,99}$", c))])
    error_message = "eks_cluster_names: EKS cluster names (letters, digits, hyphens, underscores; up to 100)."
  }
}

variable "package_path" {
  description = "Path of the deployment zip built by `make package-aws` (.build/aws/kubetrail-aws.zip)."
  type        = string
}

variable "runtime" {
  description = "Lambda Python runtime (3.12 or later; the package is built for it)."
  type        = string
  default     = "python3.12"

  validation {
    condition     = contains(["python3.12", "python3.13"], var.runtime)
    error_message = "runtime: python3.12 or python3.13."
  }
}

variable "memory_size" {
  description = "Lambda memory in MB (CPU scales with it)."
  type        = number
  default     = 512

  validation {
    condition     = var.memory_size >= 128 && var.memory_size <= 10240
    error_message = "memory_size: 128 to 10240 MB."
  }
}

variable "timeout" {
  description = "Lambda timeout in seconds for one CloudWatch Logs delivery."
  type        = number
  default     = 60

  validation {
    condition     = var.timeout >= 10 && var.timeout <= 900
    error_message = "timeout: 10 to 900 seconds."
  }
}

variable "reserved_concurrency" {
  description = "Reserved concurrent executions of the function; null for none (the account's unreserved pool)."
  type        = number
  default     = null

  validation {
    condition     = var.reserved_concurrency == null || try(var.reserved_concurrency >= 1, false)
    error_message = "reserved_concurrency: null or at least 1."
  }
}

variable "async_retry_attempts" {
  description = "Lambda's retries of a failed asynchronous invocation (0-2) before the batch goes to the on-failure destination (the dead-letter queue)."
  type        = number
  default     = 2

  validation {
    condition     = var.async_retry_attempts >= 0 && var.async_retry_attempts <= 2
    error_message = "async_retry_attempts: 0, 1 or 2."
  }
}

variable "max_event_age_seconds" {
  description = "How long Lambda keeps retrying an asynchronous event (60-21600 s) before it goes to the on-failure destination."
  type        = number
  default     = 21600

  validation {
    condition     = var.max_event_age_seconds >= 60 && var.max_event_age_seconds <= 21600
    error_message = "max_event_age_seconds: 60 to 21600."
  }
}

variable "subscription_filter_pattern" {
  description = "CloudWatch Logs filter pattern of the subscriptions: which log events reach the function. The default passes every audit Event (EKS puts authenticator and controller logs in the same log group)."
  type        = string
  default     = "{ $.kind = \"Event\" && $.apiVersion = \"audit.k8s.io/v1\" }"
}

variable "log_retention_days" {
  description = "Retention of the function's own log group, in days."
  type        = number
  default     = 365
}

variable "log_level" {
  description = "Level of the function's structured logs (DEBUG, INFO, WARNING, ERROR)."
  type        = string
  default     = "INFO"

  validation {
    condition     = contains(["DEBUG", "INFO", "WARNING", "ERROR"], var.log_level)
    error_message = "log_level: DEBUG, INFO, WARNING or ERROR."
  }
}

variable "tracing_mode" {
  description = "X-Ray tracing: \"Active\" traces every invocation (powertools Tracer on, adds the X-Ray permissions); \"PassThrough\" leaves the tracer off and costs nothing."
  type        = string
  default     = "PassThrough"

  validation {
    condition     = contains(["Active", "PassThrough"], var.tracing_mode)
    error_message = "tracing_mode: Active or PassThrough."
  }
}

variable "alarm_actions" {
  description = "ARNs notified when an alarm fires or clears (e.g. an SNS topic of the on-call team)."
  type        = list(string)
  default     = []
}

variable "deletion_protection" {
  description = "Protect the dedup table against deletion (turn off only for throwaway environments)."
  type        = bool
  default     = true
}

variable "tags" {
  description = "Tags added to every resource that takes them."
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
