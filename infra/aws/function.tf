# The function, its role (least privilege: named actions on named resources), its log group,
# asynchronous retries with the dead-letter queue as on-failure destination, and one
# subscription filter + invoke permission per EKS cluster.

data "aws_iam_policy_document" "assume" {
  statement {
    actions = ["sts:AssumeRole"]
    principals {
      type        = "Service"
      identifiers = ["lambda.amazonaws.com"]
    }
    condition {
      test     = "StringEquals"
      variable = "aws:SourceAccount"
      values   = [local.account]
    }
  }
}

resource "aws_iam_role" "function" {
  name                 = "${var.name}-function"
  description          = "kubetrail Lambda: dedup table, findings topic, dead-letter queue, own logs"
  assume_role_policy   = data.aws_iam_policy_document.assume.json
  max_session_duration = 3600
  tags                 = local.tags
}

data "aws_iam_policy_document" "function" {
  statement {
    sid       = "OwnLogs"
    actions   = ["logs:CreateLogStream", "logs:PutLogEvents"]
    resources = ["${aws_cloudwatch_log_group.function.arn}:*"]
  }
  statement {
    sid       = "DedupWindows" # conditional put/update/delete of one item per dedup key
    actions   = ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"]
    resources = [aws_dynamodb_table.dedup.arn]
  }
  statement {
    sid       = "PublishFindings" # Publish and PublishBatch
    actions   = ["sns:Publish"]
    resources = [aws_sns_topic.findings.arn]
  }
  statement {
    sid       = "DeadLetters" # undecodable records, and Lambda's on-failure destination
    actions   = ["sqs:SendMessage"]
    resources = [aws_sqs_queue.dead_letter.arn]
  }
  statement {
    sid       = "UseTheKey"
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey", "kms:DescribeKey"]
    resources = [aws_kms_key.this.arn]
  }
  dynamic "statement" {
    for_each = local.tracing ? [1] : []
    content {
      sid       = "XRay" # X-Ray has no resource-level permissions: "*" is the only resource there is
      actions   = ["xray:PutTraceSegments", "xray:PutTelemetryRecords"]
      resources = ["*"]
    }
  }
}

resource "aws_iam_role_policy" "function" {
  name   = "${var.name}-function"
  role   = aws_iam_role.function.id
  policy = data.aws_iam_policy_document.function.json
}

resource "aws_cloudwatch_log_group" "function" {
  name              = local.function_log_group
  retention_in_days = var.log_retention_days
  kms_key_id        = aws_kms_key.this.arn
  tags              = local.tags
}

resource "aws_lambda_function" "this" {
  #checkov:skip=CKV_AWS_117:the function only calls AWS APIs (DynamoDB, SNS, SQS) over TLS with IAM auth; a VPC would add NAT/endpoints and cold-start cost without protecting anything
  #checkov:skip=CKV_AWS_272:code signing needs an AWS Signer profile the user owns; the zip is built reproducibly by `make package-aws` and its hash is pinned by source_code_hash
  #checkov:skip=CKV_AWS_116:asynchronous failures go to an on-failure destination (the dead-letter queue) which records the error and the payload; a DLQ would duplicate every failed batch
  function_name                  = var.name
  description                    = "kubetrail: EKS audit events -> detection rules -> deduplicated findings on SNS"
  role                           = aws_iam_role.function.arn
  runtime                        = var.runtime
  architectures                  = ["arm64"]
  handler                        = "handler.lambda_handler"
  filename                       = var.package_path
  source_code_hash               = filebase64sha256(var.package_path)
  memory_size                    = var.memory_size
  timeout                        = var.timeout
  reserved_concurrent_executions = var.reserved_concurrency == null ? -1 : var.reserved_concurrency
  kms_key_arn                    = aws_kms_key.this.arn

  environment {
    variables = {
      KUBETRAIL_DEDUP_TABLE        = aws_dynamodb_table.dedup.name
      KUBETRAIL_SNS_TOPIC_ARN      = aws_sns_topic.findings.arn
      KUBETRAIL_DLQ_URL            = aws_sqs_queue.dead_letter.url
      KUBETRAIL_TRACING            = local.tracing ? "true" : "false"
      KUBETRAIL_CONFIG             = var.rules_config
      POWERTOOLS_SERVICE_NAME      = var.name
      POWERTOOLS_METRICS_NAMESPACE = "kubetrail"
      POWERTOOLS_LOG_LEVEL         = var.log_level
    }
  }

  tracing_config {
    mode = var.tracing_mode
  }

  tags       = local.tags
  depends_on = [aws_cloudwatch_log_group.function, aws_iam_role_policy.function]
}

resource "aws_lambda_function_event_invoke_config" "this" {
  function_name                = aws_lambda_function.this.function_name
  maximum_retry_attempts       = var.async_retry_attempts
  maximum_event_age_in_seconds = var.max_event_age_seconds

  destination_config {
    on_failure {
      destination = aws_sqs_queue.dead_letter.arn
    }
  }
}

resource "aws_lambda_permission" "logs" {
  for_each       = local.log_groups
  statement_id   = "cloudwatch-logs-${each.key}"
  action         = "lambda:InvokeFunction"
  function_name  = aws_lambda_function.this.function_name
  principal      = "logs.amazonaws.com"
  source_arn     = "arn:${local.partition}:logs:${local.region}:${local.account}:log-group:${each.value}:*"
  source_account = local.account
}

resource "aws_cloudwatch_log_subscription_filter" "audit" {
  for_each        = local.log_groups
  name            = "${var.name}-audit"
  log_group_name  = each.value
  filter_pattern  = var.subscription_filter_pattern
  destination_arn = aws_lambda_function.this.arn
  depends_on      = [aws_lambda_permission.logs]
}
