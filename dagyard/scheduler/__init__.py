"""Recurring runs: trigger arithmetic (`cron`, `triggers`) and the `Scheduler` that turns
due times into runs (`loop`). Creating and changing recurring runs is the service layer's
(`dagyard.service.recurring`)."""

from dagyard.scheduler.loop import Scheduler
from dagyard.scheduler.triggers import Trigger, due_times

__all__ = ["Scheduler", "Trigger", "due_times"]
