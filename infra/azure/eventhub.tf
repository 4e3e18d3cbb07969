# AKS audit logs → diagnostic settings → this Event Hub → the function (consumer group kubetrail).

resource "azurerm_eventhub_namespace" "audit" {
  #checkov:skip=CKV_AZURE_228:Diagnostic settings can only write to Event Hubs with a namespace SAS rule, so local auth must stay on; the function itself reads with its identity.
  name                          = "${var.name}-audit-${substr(md5(data.azurerm_resource_group.this.id), 0, 8)}"
  resource_group_name           = data.azurerm_resource_group.this.name
  location                      = var.location
  sku                           = "Standard"
  capacity                      = 1
  minimum_tls_version           = "1.2"
  public_network_access_enabled = true
  local_authentication_enabled  = true
  tags                          = var.tags
}

resource "azurerm_eventhub" "audit" {
  name              = "aks-audit"
  namespace_id      = azurerm_eventhub_namespace.audit.id
  partition_count   = var.eventhub_partition_count
  message_retention = var.eventhub_retention_days
}

resource "azurerm_eventhub_consumer_group" "kubetrail" {
  name                = "kubetrail"
  namespace_name      = azurerm_eventhub_namespace.audit.name
  eventhub_name       = azurerm_eventhub.audit.name
  resource_group_name = data.azurerm_resource_group.this.name
}

# Azure Monitor needs Manage (+ Listen + Send) on a namespace rule to stream diagnostics.
resource "azurerm_eventhub_namespace_authorization_rule" "diagnostics" {
  name                = "aks-diagnostics"
  namespace_name      = azurerm_eventhub_namespace.audit.name
  resource_group_name = data.azurerm_resource_group.this.name
  listen              = true
  send                = true
  manage              = true
}

resource "azurerm_monitor_diagnostic_setting" "aks_audit" {
  for_each                       = toset(var.aks_cluster_ids)
  name                           = "${var.name}-kube-audit"
  target_resource_id             = each.value
  eventhub_name                  = azurerm_eventhub.audit.name
  eventhub_authorization_rule_id = azurerm_eventhub_namespace_authorization_rule.diagnostics.id

  dynamic "enabled_log" {
    for_each = toset(var.audit_log_categories)
    content {
      category = enabled_log.value
    }
  }
}
