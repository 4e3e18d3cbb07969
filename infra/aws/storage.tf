# Dedup windows, the findings topic and the dead-letter queue, all encrypted with the module's key.

resource "aws_dynamodb_table" "dedup" {
  name                        = "${var.name}-dedup"
  billing_mode                = "PAY_PER_REQUEST"
  hash_key                    = "pk" # sha256 of the dedup key (kubetrail.dedup.dynamodb)
  deletion_protection_enabled = var.deletion_protection

  attribute {
    name = "pk"
    type = "S"
  }

  ttl { # window end + dedup period, in epoch seconds: old windows expire by themselves
    attribute_name = "expires_at"
    enabled        = true
  }

  server_side_encryption {
    enabled     = true
    kms_key_arn = aws_kms_key.this.arn
  }

  point_in_time_recovery {
    enabled = true
  }

  tags = local.tags
}

resource "aws_sns_topic" "findings" {
  name              = "${var.name}-findings"
  display_name      = "kubetrail findings"
  kms_master_key_id = aws_kms_key.this.arn
  tags              = local.tags
}

resource "aws_sqs_queue" "dead_letter" {
  name                              = "${var.name}-dead-letter"
  message_retention_seconds         = 1209600 # 14 days, SQS's maximum
  kms_master_key_id                 = aws_kms_key.this.arn
  kms_data_key_reuse_period_seconds = 300
  tags                              = local.tags
}
