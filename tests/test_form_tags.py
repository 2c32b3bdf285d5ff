"""{% form_field %} and {% widget %}: a field's markup, kept between requests only where it
cannot differ (a form whose fields are fixed, a blank value or one of the field's choices)."""

from __future__ import annotations

import pytest
from django.template import Context, Template

from deals.forms import ConcessionForm, DealFilterForm, DealForm, LoseForm, RetractForm
from deals.models import Team
from deals.templatetags import walkaway


def draw(source: str, **context) -> str:
    return Template("{% load walkaway %}" + source).render(Context(context))


@pytest.fixture(autouse=True)
def _nothing_kept():
    walkaway._shared_markup.clear()
    yield
    walkaway._shared_markup.clear()


def test_a_kept_blank_field_is_what_django_draws():
    drawn = draw("{% form_field form.description %}", form=ConcessionForm())
    again = draw("{% form_field form.description %}", form=ConcessionForm())
    assert drawn == again
    assert '<label for="id_description">What you gave</label>' in drawn
    assert str(ConcessionForm()["description"]) in drawn


def test_a_field_in_error_is_drawn_with_its_error_every_time():
    draw("{% form_field form.description %}", form=ConcessionForm())
    bound = ConcessionForm({"kind": "price_discount", "amount": "5", "description": ""})
    drawn = draw("{% form_field form.description %}", form=bound)
    assert 'class="errorlist" id="id_description-error"' in drawn
    assert 'aria-invalid="true"' in drawn


def test_each_choice_is_drawn_selected():
    first = draw("{% widget f.status %}", f=DealFilterForm({"status": "won"}))
    second = draw("{% widget f.status %}", f=DealFilterForm({"status": "lost"}))
    assert '<option value="won" selected>' in first
    assert '<option value="lost" selected>' in second
    assert '<option value="won" selected>' not in second


def test_a_value_that_is_not_a_choice_is_never_kept():
    drawn = draw("{% widget f.status %}", f=DealFilterForm({"status": "<nonsense>"}))
    assert "selected" not in drawn.replace('value="" selected', "")
    assert walkaway._shared_markup == {}


def test_typed_text_is_never_kept():
    bound = LoseForm({"reason": "price", "note": "They went with a cheaper vendor"})
    drawn = draw("{% form_field f.note %}{% form_field f.reason %}", f=bound)
    assert "They went with a cheaper vendor" in drawn
    # The reason (a choice) may be kept; the note (free text) may not.
    assert all(key[1] != "note" for key in walkaway._shared_markup)


@pytest.mark.django_db
def test_a_form_built_per_person_is_never_kept():
    shared = Team.objects.create(name="Head office")
    ours = Team.objects.create(name="Print & Packaging")
    theirs = Team.objects.create(name="Public Sector")
    mine = draw("{% form_field f.team %}", f=DealForm(teams=[shared, ours]))
    yours = draw("{% form_field f.team %}", f=DealForm(teams=[shared, theirs]))
    assert "Print &amp; Packaging" in mine and "Public Sector" not in mine
    assert "Public Sector" in yours and "Print &amp; Packaging" not in yours


def test_a_choice_that_was_not_sent_is_drawn_as_the_blank_choice():
    drawn = draw("{% widget f.level %}", f=DealFilterForm({"status": "open"}))
    assert drawn == draw("{% widget f.level %}", f=DealFilterForm())
    assert '<option value="" selected>Any level</option>' in drawn
    # Kept, under the blank value: the next list with only a status chosen draws no select.
    assert any(key[1] == "level" and key[-1] == "" for key in walkaway._shared_markup)


def test_forms_drawn_with_ids_of_their_own_are_not_kept_one_by_one():
    # One retract form per concession, each with its own ids: keeping them would grow the memo
    # with every concession anyone opens.
    for pk in range(1, 51):
        drawn = draw("{% form_field f.reason %}", f=RetractForm(auto_id=f"id_retract{pk}_%s"))
        assert f'id="id_retract{pk}_reason"' in drawn
    assert walkaway._shared_markup == {}
