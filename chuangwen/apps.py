"""The third-party apps' sections in the admin, named in Chinese (the project's own apps name
theirs in their ``apps.py``)."""

from axes.apps import AppConfig as AxesAppConfig
from django_tasks_db.apps import TasksAppConfig


class AxesConfig(AxesAppConfig):
    verbose_name = "登录失败锁定"


class TasksConfig(TasksAppConfig):
    verbose_name = "后台任务队列"
