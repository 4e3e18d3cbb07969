# kubetrail on AWS: EKS audit log groups --subscription--> Lambda --> DynamoDB dedup --> SNS
# findings; undecodable records and batches that keep failing --> the SQS dead-letter queue.

data "aws_caller_identity" "current" {}
data "aws_region" "current" {}
data "aws_partition" "current" {}

locals {
  account   = data.aws_caller_identity.current.account_id
  region    = data.aws_region.current.name
  partition = data.aws_partition.current.partition

  log_groups         = { for c in var.eks_cluster_names : c => "/aws/eks/${c}/cluster" }
  function_log_group = "/aws/lambda/${var.name}"
  tracing            = var.tracing_mode == "Active"
  tags               = merge({ "app" = "kubetrail" }, var.tags)
}

# One customer-managed key encrypts the topic, the queue, the table, the function's environment
# and its logs. The key policy names who may do what; nothing is granted on "*" actions.
resource "aws_kms_key" "this" {
  description             = "kubetrail ${var.name}: findings topic, dead-letter queue, dedup table, logs"
  enable_key_rotation     = true
  deletion_window_in_days = 30
  policy                  = data.aws_iam_policy_document.key.json
  tags                    = local.tags
}

resource "aws_kms_alias" "this" {
  name          = "alias/${var.name}"
  target_key_id = aws_kms_key.this.key_id
}

data "aws_iam_policy_document" "key" {
  # In a key policy "*" as resource means this key. No statement grants kms:* or "*" actions.
  #checkov:skip=CKV_AWS_109:key policy: the account administers its own key (IAM delegation); resource "*" is this key
  #checkov:skip=CKV_AWS_111:key policy: write actions are on this key only (resource "*" in a key policy)
  #checkov:skip=CKV_AWS_356:key policy: resource "*" in a key policy is the key itself
  statement {
    sid = "AccountAdministersTheKey"
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account}:root"]
    }
    actions = [
      "kms:Create*", "kms:Describe*", "kms:Enable*", "kms:List*", "kms:Put*", "kms:Update*",
      "kms:Revoke*", "kms:Disable*", "kms:Get*", "kms:Delete*", "kms:TagResource",
      "kms:UntagResource", "kms:ScheduleKeyDeletion", "kms:CancelKeyDeletion",
      "kms:RotateKeyOnDemand",
    ]
    resources = ["*"]
  }

  statement {
    sid = "AccountPrincipalsReadThroughIAM" # e.g. an operator reading the dead-letter queue
    principals {
      type        = "AWS"
      identifiers = ["arn:${local.partition}:iam::${local.account}:root"]
    }
    actions   = ["kms:Decrypt", "kms:Encrypt", "kms:GenerateDataKey*", "kms:ReEncrypt*"]
    resources = ["*"]
  }

  statement {
    sid = "CloudWatchLogsEncryptsTheFunctionLogs"
    principals {
      type        = "Service"
      identifiers = ["logs.${local.region}.amazonaws.com"]
    }
    actions   = ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"]
    resources = ["*"]
    condition {
      test     = "ArnEquals"
      variable = "kms:EncryptionContext:aws:logs:arn"
      values   = ["arn:${local.partition}:logs:${local.region}:${local.account}:log-group:${local.function_log_group}"]
    }
  }
}
