"""``manage.py instructor <username>``: make (or update) an instructor account.

    python manage.py instructor kim                 # asks for a password
    python manage.py instructor kim --password-stdin < file
"""

from __future__ import annotations

import getpass
import sys
from argparse import ArgumentParser
from typing import Any

from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.models import Group
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from k8slearn.classroom.models import INSTRUCTOR_GROUP


class Command(BaseCommand):
    help = "Create an instructor account (or add an existing user to the instructor group)."
    stealth_options = ("stdin",)  # tests pass the password as a stream

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("username")
        parser.add_argument("--password-stdin", action="store_true",
                            help="read the password from standard input (scripts)")
        parser.add_argument("--remove", action="store_true",
                            help="take the user out of the instructor group")

    def handle(self, *args: Any, **options: Any) -> None:
        users = get_user_model()
        group, _ = Group.objects.get_or_create(name=INSTRUCTOR_GROUP)
        username = options["username"].strip()
        if not username:
            raise CommandError("give a username")
        user = users.objects.filter(username=username).first()
        if options["remove"]:
            if user is None:
                raise CommandError(f"there is no user {username}")
            user.groups.remove(group)
            self.stdout.write(f"{username} is no longer an instructor.")
            return
        if user is None:
            stdin = options.get("stdin") or sys.stdin
            password = (stdin.readline().rstrip("\n") if options["password_stdin"]
                        else self._ask())
            user = users(username=username)
            try:
                password_validation.validate_password(password, user)
            except ValidationError as err:
                raise CommandError(" ".join(err.messages)) from err
            user.set_password(password)
            user.save()
            self.stdout.write(f"Created the account {username}.")
        user.groups.add(group)
        self.stdout.write(self.style.SUCCESS(
            f"{username} is an instructor: log in at /ko/accounts/login/ (or /en/…)."))

    def _ask(self) -> str:
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            raise CommandError("the passwords differ")
        return first
