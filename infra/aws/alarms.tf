# Alarms: the function fails (each failure is retried, then dead-lettered), records wait in the
# dead-letter queue, or Lambda could not even deliver a failed batch to its destination.
# Each fires as soon as its metric is above 0 in a 5-minute period.

locals {
  alarms = {
    function-errors = {
      description = "kubetrail invocations failed (DynamoDB/SNS/SQS unavailable or misconfigured); Lambda retries them, then sends them to ${aws_sqs_queue.dead_letter.name}."
      namespace   = "AWS/Lambda"
      metric      = "Errors"
      dimensions  = { FunctionName = aws_lambda_function.this.function_name }
      statistic   = "Sum"
    }
    dead-letters = {
      description = "Records or batches wait in ${aws_sqs_queue.dead_letter.name}: undecodable audit records, or batches that failed every retry."
      namespace   = "AWS/SQS"
      metric      = "ApproximateNumberOfMessagesVisible"
      dimensions  = { QueueName = aws_sqs_queue.dead_letter.name }
      statistic   = "Maximum"
    }
    destination-delivery-failures = {
      description = "Lambda could not send a failed batch to the dead-letter queue: audit records were lost."
      namespace   = "AWS/Lambda"
      metric      = "DestinationDeliveryFailures"
      dimensions  = { FunctionName = aws_lambda_function.this.function_name }
      statistic   = "Sum"
    }
  }
}

resource "aws_cloudwatch_metric_alarm" "this" {
  for_each            = local.alarms
  alarm_name          = "${var.name}-${each.key}"
  alarm_description   = each.value.description
  namespace           = each.value.namespace
  metric_name         = each.value.metric
  dimensions          = each.value.dimensions
  statistic           = each.value.statistic
  period              = 300
  evaluation_periods  = 1
  threshold           = 0
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  alarm_actions       = var.alarm_actions
  ok_actions          = var.alarm_actions
  tags                = local.tags
}
