"""This app's entries in the menu and in each role's home-page tasks (see chuangwen/nav.py)."""

MENU: list = []
ROLE_TASKS: dict = {}
