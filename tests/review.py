"""Helpers shared by the tests of the manager's review (approvals, dashboard, reports, exports,
notifications). Not a test module: pytest collects only test_*.py.

`build_review` makes one fixed team history through the services, small enough that every
figure on the dashboard can be worked out by hand (the expectations are in the docstring).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal

from deals import services
from deals.models import Deal, ExceptionRequest


def give(deal, amount, *, user=None, got="", description="Discount") -> None:
    services.concession_log(
        deal=deal,
        user=user or deal.owner,
        kind="price_discount",
        amount=Decimal(amount),
        description=description,
        got_in_return=got,
        form_key=uuid.uuid4().hex,
    )


def ask(deal, amount, *, user=None, **extra) -> ExceptionRequest:
    values = {"kind": "price_discount", "description": "Extra discount", "note": "Key account"}
    values.update(extra)
    return services.exception_request(
        deal=deal, user=user or deal.owner, amount=Decimal(amount), **values
    )


def fresh(deal: Deal) -> Deal:
    deal.refresh_from_db()
    return deal


@dataclass
class Review:
    """The deals of `build_review`, by letter."""

    deals: dict[str, Deal]

    def __getattr__(self, name: str) -> Deal:
        try:
            return self.deals[name]
        except KeyError:
            raise AttributeError(name) from None


def build_review(*, make_deal, owner, teammate, manager, outsider=None, other_team=None) -> Review:
    """Opening 10,000 and floor 9,000 (room 1,000) unless said otherwise.

    olivia (owner):
      A USD  gives 300 (got a longer contract) + 200 (nothing): 50%; won at net 9,500.
      B USD  gives 800 (nothing): danger; won at net 9,200; cost 6,900 -> margin 25%.
      C USD  gives 100 (got a reference); walked away at 9,900; came back; won at 9,950 (on our
             terms); cost 7,960 -> margin 20%. Room used at close 10%.
      D USD  gives 600 (nothing); asks for 500 (shortfall 100), still pending. Open, caution.
      E EUR  gives 250 (nothing), retracted; walked away at 10,000. Room used at close 0%.
    tom (teammate):
      F USD  gives 400 (got a bigger order) + 500 (nothing); asks for 200, rejected; lost at 90%.
      G USD  gives 1,000 (nothing): at the floor; asks for 100, approved (nothing in return):
             below floor, 110%; won at net 8,900; cost 8,010 -> margin 10%.
      H EUR  walked away at 10,000 with no concession; came back; won at 9,500 (not on our
             terms); no cost. Room used at close 0%.
      I USD  gives 850 (nothing): open, danger.
    oscar (outsider, another team), when given:
      X USD  gives 500; won. Never on this team's dashboard.

    Per rep: olivia 5 deals, 5 standing gives (3 without a get, 60%), 1.00 per deal, closed 4
    (A B C E), won 3 (75%), 2 walk-aways (C E), 1 request pending, median at close of
    0 10 50 80 = 30%. tom 4 deals, 5 gives (4 without, 80%), 1.25 per deal, closed 3 (F G H),
    won 2 (66.67%), 1 walk-away (H), 1 approved + 1 rejected, median of 0 90 110 = 90%.

    Per currency: USD walked away 1, came back 1 (100%), on our terms 1 (100%), comeback win
    margin 20% (1 win), danger-or-beyond win margin (25 + 10) / 2 = 17.5% (B and G).
    EUR walked away 2, came back 1 (50%), on our terms 0 (0%), no comeback win with a known
    cost and no danger win: both margins "not enough data".
    """
    deals: dict[str, Deal] = {}

    def make(letter, user, **kwargs):
        deal = make_deal(user=user, title=f"Deal {letter}", customer=f"Customer {letter}", **kwargs)
        deals[letter] = deal
        return deal

    a = make("A", owner)
    give(a, "300", got="Longer contract")
    give(a, "200")
    services.deal_win(deal=a, user=owner)

    b = make("B", owner, cost="6900.00")
    give(b, "800")
    services.deal_win(deal=b, user=owner)

    c = make("C", owner, cost="7960.00")
    give(c, "100", got="A reference")
    services.deal_walk_away(deal=c, user=owner, reason="Too greedy")
    services.deal_come_back(deal=c, user=owner)
    services.deal_win(deal=c, user=owner, final_price="9950.00")

    d = make("D", owner)
    give(d, "600")
    ask(d, "500")

    e = make("E", owner, currency="EUR")
    give(e, "250")
    services.concession_retract(
        concession=e.concessions.get(), user=owner, reason="Typed on the wrong deal"
    )
    services.deal_walk_away(deal=e, user=owner, reason="No budget")

    f = make("F", teammate)
    give(f, "400", got="Bigger order")
    give(f, "500")
    services.exception_reject(exception_request=ask(f, "200"), user=manager, comment="No.")
    services.deal_lose(deal=f, user=teammate, reason="price")

    g = make("G", teammate, cost="8010.00")
    give(g, "1000")
    services.exception_approve(exception_request=ask(g, "100"), user=manager, comment="Go.")
    services.deal_win(deal=g, user=teammate)

    h = make("H", teammate, currency="EUR")
    services.deal_walk_away(deal=h, user=teammate, reason="Silence")
    services.deal_come_back(deal=h, user=teammate)
    services.deal_win(deal=h, user=teammate, final_price="9500.00")

    i = make("I", teammate)
    give(i, "850")

    if outsider is not None and other_team is not None:
        x = make("X", outsider, team=other_team)
        give(x, "500")
        services.deal_win(deal=x, user=outsider)

    return Review({letter: fresh(deal) for letter, deal in deals.items()})
