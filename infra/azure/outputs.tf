output "function_app_name" {
  description = "The Function App running kubetrail."
  value       = azurerm_linux_function_app.kubetrail.name
}

output "function_principal_id" {
  description = "Object id of the Function App's system-assigned identity."
  value       = azurerm_linux_function_app.kubetrail.identity[0].principal_id
}

output "eventgrid_topic_endpoint" {
  description = "The Event Grid topic findings are published to (subscribe to event type kubetrail.finding)."
  value       = azurerm_eventgrid_topic.findings.endpoint
}

output "eventgrid_topic_id" {
  description = "Resource id of the Event Grid topic, for event subscriptions."
  value       = azurerm_eventgrid_topic.findings.id
}

output "eventhub_name" {
  description = "The Event Hub the AKS diagnostic settings stream to."
  value       = azurerm_eventhub.audit.name
}

output "deadletter_queue" {
  description = "Queue URL of undecodable records."
  value       = "${azurerm_storage_account.kubetrail.primary_queue_endpoint}${azurerm_storage_queue.deadletter.name}"
}
