"""Personal API tokens from the command line.

python manage.py api_token create USERNAME --name NAME   # prints the token, once, last
python manage.py api_token list USERNAME
python manage.py api_token revoke USERNAME TOKEN_ID
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.core.management.base import BaseCommand, CommandError

from deals import services
from deals.integrations import ApiToken


class Command(BaseCommand):
    help = "Create, list or revoke a person's API tokens."

    def add_arguments(self, parser):
        actions = parser.add_subparsers(dest="action", required=True)
        create = actions.add_parser("create", help="Create a token; it is printed once.")
        create.add_argument("username")
        create.add_argument("--name", required=True, help="What the token is for.")
        listing = actions.add_parser("list", help="A person's tokens (never the tokens).")
        listing.add_argument("username")
        revoke = actions.add_parser("revoke", help="Revoke a token at once.")
        revoke.add_argument("username")
        revoke.add_argument("token_id", type=int)

    def handle(self, *args, action, username, **options):
        user = get_user_model().objects.filter(username=username).first()
        if user is None:
            raise CommandError(f"No user named {username!r}.")
        try:
            if action == "create":
                token, raw = services.api_token_create(user=user, name=options["name"])
                self.stderr.write(
                    f"Token {token.pk} ({token.name}) for {username}. It is shown only now:"
                )
                self.stdout.write(raw)
            elif action == "list":
                for token in ApiToken.objects.filter(user=user):
                    state = "revoked" if token.revoked_at else "live"
                    used = token.last_used_at.isoformat() if token.last_used_at else "never"
                    self.stdout.write(
                        f"{token.pk}\t{token.prefix}…\t{token.name}\t{state}\tlast used {used}"
                    )
            else:
                token = ApiToken.objects.filter(pk=options["token_id"], user=user).first()
                if token is None:
                    raise CommandError(f"{username} has no token {options['token_id']}.")
                services.api_token_revoke(user=user, token=token)
                self.stdout.write(f"Token {token.pk} revoked.")
        except services.DomainError as e:
            raise CommandError(e.message) from None
