# kubetrail on Azure: Function App (Linux, Python) with a system-assigned identity, triggered by the
# AKS audit Event Hub, keeping dedup windows in Table Storage and publishing findings to an Event
# Grid topic. Every data-plane access is a role assignment to that identity, scoped to the one
# resource it needs; the storage account and the topic accept no keys.

data "azurerm_resource_group" "this" {
  name = var.resource_group_name
}

locals {
  storage_account_name = substr("${var.name}${substr(md5(data.azurerm_resource_group.this.id), 0, 13)}", 0, 24)
}

# --- storage: the Functions host (checkpoints, leases), the dedup table, the dead-letter queue --
resource "azurerm_storage_account" "kubetrail" {
  #checkov:skip=CKV_AZURE_43:The name is computed (var.name, validated to 3-11 lower-case letters/digits, plus 13 hex digits): always a valid account name.
  #checkov:skip=CKV2_AZURE_1:Microsoft-managed keys: the account holds dedup windows and undecodable records, no customer secrets.
  #checkov:skip=CKV2_AZURE_33:No private endpoint: the Function App runs without VNet integration on the B1 plan; access needs Entra ID (keys are disabled).
  #checkov:skip=CKV_AZURE_59:Public network access stays on for the same reason; shared keys are off, so every request needs a role assignment.
  #checkov:skip=CKV_AZURE_206:LRS is enough: dedup windows are rebuilt by the next match and Event Hub keeps the input for retries.
  #checkov:skip=CKV2_AZURE_41:No SAS is ever issued (shared_access_key_enabled = false), so there is no SAS expiration to police.
  name                            = local.storage_account_name
  resource_group_name             = data.azurerm_resource_group.this.name
  location                        = var.location
  account_tier                    = "Standard"
  account_replication_type        = "LRS"
  min_tls_version                 = "TLS1_2"
  https_traffic_only_enabled      = true
  allow_nested_items_to_be_public = false
  shared_access_key_enabled       = false
  default_to_oauth_authentication = true
  tags                            = var.tags

  blob_properties {
    delete_retention_policy {
      days = 7
    }
    container_delete_retention_policy {
      days = 7
    }
  }

  queue_properties {
    logging {
      delete                = true
      read                  = true
      write                 = true
      version               = "1.0"
      retention_policy_days = 10
    }
  }
}

resource "azurerm_storage_table" "dedup" {
  #checkov:skip=CKV2_AZURE_20:Table reads, writes and deletes are logged by azurerm_monitor_diagnostic_setting.storage_logs; storage insights would need an account key, and keys are disabled.
  name               = var.dedup_table_name
  storage_account_id = azurerm_storage_account.kubetrail.id
}

resource "azurerm_storage_queue" "deadletter" {
  name               = var.deadletter_queue_name
  storage_account_id = azurerm_storage_account.kubetrail.id
}

# --- monitoring ------------------------------------------------------------------------------
resource "azurerm_log_analytics_workspace" "kubetrail" {
  name                = "${var.name}-logs"
  resource_group_name = data.azurerm_resource_group.this.name
  location            = var.location
  sku                 = "PerGB2018"
  retention_in_days   = var.log_retention_days
  tags                = var.tags
}

resource "azurerm_application_insights" "kubetrail" {
  name                = "${var.name}-insights"
  resource_group_name = data.azurerm_resource_group.this.name
  location            = var.location
  workspace_id        = azurerm_log_analytics_workspace.kubetrail.id
  application_type    = "other"
  tags                = var.tags
}

# Data-plane logs of the dedup table and the dead-letter queue, to the Log Analytics workspace.
resource "azurerm_monitor_diagnostic_setting" "storage_logs" {
  for_each                   = toset(["tableServices", "queueServices"])
  name                       = "${var.name}-${each.value}"
  target_resource_id         = "${azurerm_storage_account.kubetrail.id}/${each.value}/default"
  log_analytics_workspace_id = azurerm_log_analytics_workspace.kubetrail.id

  dynamic "enabled_log" {
    for_each = toset(["StorageRead", "StorageWrite", "StorageDelete"])
    content {
      category = enabled_log.value
    }
  }
}

# --- the function ----------------------------------------------------------------------------
resource "azurerm_service_plan" "kubetrail" {
  #checkov:skip=CKV_AZURE_211:B1 is the low-cost default; production deployments set service_plan_sku (e.g. P1v3) for the SLA.
  #checkov:skip=CKV_AZURE_212:One instance per plan is enough for an Event Hub consumer: a lost instance's partitions move on restart and nothing is lost (checkpoints).
  #checkov:skip=CKV_AZURE_225:Zone redundancy needs a Premium plan; the B1 default keeps cost low. Set service_plan_sku to a P*v3 SKU to get it.
  name                = "${var.name}-plan"
  resource_group_name = data.azurerm_resource_group.this.name
  location            = var.location
  os_type             = "Linux"
  sku_name            = var.service_plan_sku
  tags                = var.tags
}

resource "azurerm_linux_function_app" "kubetrail" {
  #checkov:skip=CKV_AZURE_221:No HTTP triggers; the app only pulls from Event Hub. Public access is needed for deployment without a VNet.
  #checkov:skip=CKV_AZURE_56:App Service authentication protects HTTP endpoints; this app has none.
  name                          = "${var.name}-${substr(md5(data.azurerm_resource_group.this.id), 0, 8)}"
  resource_group_name           = data.azurerm_resource_group.this.name
  location                      = var.location
  service_plan_id               = azurerm_service_plan.kubetrail.id
  storage_account_name          = azurerm_storage_account.kubetrail.name
  storage_uses_managed_identity = true
  https_only                    = true
  zip_deploy_file               = var.package_path
  functions_extension_version   = "~4"
  builtin_logging_enabled       = false
  client_certificate_enabled    = true
  client_certificate_mode       = "Required"
  tags                          = var.tags

  identity {
    type = "SystemAssigned"
  }

  site_config {
    always_on                              = true
    minimum_tls_version                    = "1.2"
    ftps_state                             = "Disabled"
    http2_enabled                          = true
    application_insights_connection_string = azurerm_application_insights.kubetrail.connection_string
    application_stack {
      python_version = var.python_version
    }
  }

  app_settings = {
    WEBSITE_RUN_FROM_PACKAGE       = "1"
    SCM_DO_BUILD_DURING_DEPLOYMENT = "false"
    # Event Hubs trigger: identity-based connection (no connection string).
    KUBETRAIL_EVENTHUB__fullyQualifiedNamespace = "${azurerm_eventhub_namespace.audit.name}.servicebus.windows.net"
    KUBETRAIL_EVENTHUB_NAME                     = azurerm_eventhub.audit.name
    KUBETRAIL_EVENTHUB_CONSUMER_GROUP           = azurerm_eventhub_consumer_group.kubetrail.name
    # Dedup table, dead-letter queue and Event Grid topic, all reached with the identity.
    KUBETRAIL_TABLE_ENDPOINT     = azurerm_storage_account.kubetrail.primary_table_endpoint
    KUBETRAIL_DEDUP_TABLE        = azurerm_storage_table.dedup.name
    KUBETRAIL_QUEUE_ENDPOINT     = azurerm_storage_account.kubetrail.primary_queue_endpoint
    KUBETRAIL_DEADLETTER_QUEUE   = azurerm_storage_queue.deadletter.name
    KUBETRAIL_EVENTGRID_ENDPOINT = azurerm_eventgrid_topic.findings.endpoint
    # Rules configuration packaged with the function (empty: the bundled rules as shipped).
    KUBETRAIL_CONFIG = var.rules_config
  }
}

# --- least-privilege role assignments for the function's identity ---------------------------
locals {
  function_roles = {
    # The Functions host keeps its locks, and the Event Hubs trigger its checkpoints, in blobs.
    host_blobs = {
      scope = azurerm_storage_account.kubetrail.id
      role  = "Storage Blob Data Owner"
    }
    dedup_table = {
      scope = azurerm_storage_table.dedup.resource_manager_id
      role  = "Storage Table Data Contributor"
    }
    deadletter_queue = {
      scope = azurerm_storage_queue.deadletter.resource_manager_id
      role  = "Storage Queue Data Message Sender"
    }
    audit_hub = {
      scope = azurerm_eventhub.audit.id
      role  = "Azure Event Hubs Data Receiver"
    }
    findings_topic = {
      scope = azurerm_eventgrid_topic.findings.id
      role  = "EventGrid Data Sender"
    }
  }
}

resource "azurerm_role_assignment" "function" {
  for_each             = local.function_roles
  scope                = each.value.scope
  role_definition_name = each.value.role
  principal_id         = azurerm_linux_function_app.kubetrail.identity[0].principal_id
  principal_type       = "ServicePrincipal"
}
