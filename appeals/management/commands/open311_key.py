"""Open311 API keys from the command line: ``create NAME`` (prints the key), ``list``, ``revoke NAME``."""

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from appeals.models import Open311Client
from appeals.services import issue_open311_key, revoke_open311_key
from org.audit import Actor
from org.errors import ActionRefused


class Command(BaseCommand):
    help = "Issue, list and revoke the API keys of Open311 clients (Open311 客户端密钥)."

    def add_arguments(self, parser):
        sub = parser.add_subparsers(dest="action", required=True)
        create = sub.add_parser("create", help="issue a key for a new client and print it (shown once)")
        create.add_argument("name")
        create.add_argument("--contact", default="", help="who runs the client")
        sub.add_parser("list", help="list the clients and their key prefixes")
        revoke = sub.add_parser("revoke", help="revoke a client's key")
        revoke.add_argument("name")

    def handle(self, *args, action, **options):
        actor = Actor.system()
        try:
            if action == "create":
                client, key = issue_open311_key(actor, options["name"], options["contact"])
                self.stdout.write(key)
                self.stderr.write(f"Issued for {client.name}; store it now, it is not shown again.")
            elif action == "list":
                for client in Open311Client.objects.all():
                    state = f"revoked {client.revoked_at:%Y-%m-%d}" if client.revoked_at else "active"
                    used = f"{client.last_used_at:%Y-%m-%d %H:%M}" if client.last_used_at else "never"
                    self.stdout.write(f"{client.prefix}…\t{state}\tlast used {used}\t{client.name}")
            else:
                found = Open311Client.objects.filter(name=options["name"]).first()
                if found is None:
                    raise CommandError(f"No Open311 client named {options['name']!r}")
                revoke_open311_key(actor, found)
                self.stdout.write(f"Revoked {found.name}")
        except (ValidationError, ActionRefused) as exc:
            raise CommandError("; ".join(getattr(exc, "messages", [str(exc)]))) from exc
