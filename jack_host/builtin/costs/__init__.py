"""Cost tracking: the AI usage ledger, SMS spend, budgets and their alerts, and the cost reports."""
