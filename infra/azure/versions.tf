terraform {
  required_version = ">= 1.6"
  required_providers {
    # 4.77: azurerm_storage_table takes storage_account_id (Resource Manager, no shared key)
    # from 4.77.0, azurerm_storage_queue from 4.46.0 (see docs/terraform.md).
    azurerm = {
      source  = "hashicorp/azurerm"
      version = "~> 4.77"
    }
  }
}
