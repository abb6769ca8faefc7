"""Serve mode: playbooks on their schedules in one long-running process."""
