output "findings_topic_arn" {
  description = "SNS topic the findings are published to: subscribe here (filter on rule_id, severity, cluster, cloud)."
  value       = aws_sns_topic.findings.arn
}

output "dedup_table_name" {
  description = "DynamoDB table of the dedup windows."
  value       = aws_dynamodb_table.dedup.name
}

output "dead_letter_queue_url" {
  description = "SQS queue of undecodable records and of batches that failed every retry."
  value       = aws_sqs_queue.dead_letter.url
}

output "dead_letter_queue_arn" {
  description = "ARN of the dead-letter queue."
  value       = aws_sqs_queue.dead_letter.arn
}

output "function_name" {
  description = "Name of the Lambda function."
  value       = aws_lambda_function.this.function_name
}

output "function_arn" {
  description = "ARN of the Lambda function."
  value       = aws_lambda_function.this.arn
}

output "kms_key_arn" {
  description = "KMS key encrypting the topic, queue, table and logs (subscribers' and readers' IAM policies need kms:Decrypt on it)."
  value       = aws_kms_key.this.arn
}
