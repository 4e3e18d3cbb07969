# Findings → this custom topic, as CloudEvents 1.0 (type kubetrail.finding). Keys are disabled:
# publishers need the "EventGrid Data Sender" role (the function's identity has it).

resource "azurerm_eventgrid_topic" "findings" {
  #checkov:skip=CKV_AZURE_193:Public network access is how the function (no VNet) and most subscribers' webhooks reach the topic; publishing needs an Entra ID token (local auth is off).
  name                          = "${var.name}-findings-${substr(md5(data.azurerm_resource_group.this.id), 0, 8)}"
  resource_group_name           = data.azurerm_resource_group.this.name
  location                      = var.location
  input_schema                  = "CloudEventSchemaV1_0"
  local_auth_enabled            = false
  public_network_access_enabled = true
  tags                          = var.tags

  identity {
    type = "SystemAssigned"
  }
}
