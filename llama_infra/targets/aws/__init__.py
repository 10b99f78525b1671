"""Pulumi resources that more than one AWS target shares (EventBridge Scheduler schedules and their role)."""
