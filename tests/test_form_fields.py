"""Every labelled field is drawn by {{ form.x.as_field_group }} through templates/forms/field.html
(settings.FORM_RENDERER): its label, "(optional)", errors and help, tied to the input."""

from __future__ import annotations

from django.template import Context, Template

from deals.forms import ConcessionForm, DealForm, FloorForm, WinForm


def draw(source: str, **context) -> str:
    return Template(source).render(Context(context))


def test_a_field_is_drawn_with_its_label_and_input():
    drawn = draw("{{ form.description.as_field_group }}", form=ConcessionForm())
    assert '<label for="id_description">What you gave</label>' in drawn
    assert str(ConcessionForm()["description"]) in drawn
    assert 'class="field wide"' in drawn


def test_a_field_in_error_shows_its_error_and_points_the_input_at_it():
    bound = ConcessionForm({"kind": "price_discount", "amount": "5", "description": ""})
    bound.is_valid()
    drawn = draw("{{ form.description.as_field_group }}", form=bound)
    assert 'class="field has-error wide"' in drawn
    assert 'class="errorlist" id="id_description-error"' in drawn
    assert 'aria-invalid="true"' in drawn
    assert 'aria-describedby="id_description-error"' in drawn


def test_help_text_is_tied_to_the_input():
    drawn = draw("{{ form.got_in_return.as_field_group }}", form=ConcessionForm())
    assert 'id="id_got_in_return-help"' in drawn
    assert 'aria-describedby="id_got_in_return-help"' in drawn


def test_an_optional_field_says_so_unless_its_help_already_does():
    optional = draw("{{ form.reason.as_field_group }}", form=FloorForm())
    assert '<span class="optional">(optional)</span>' in optional
    said_in_help = draw("{{ form.final_price.as_field_group }}", form=WinForm())
    assert "(optional)" not in said_in_help
    assert "Leave empty to use the current net." in said_in_help


def test_typed_text_comes_back_escaped():
    bound = DealForm({"title": "<script>x</script>"}, teams=[])
    bound.is_valid()
    drawn = draw("{{ form.title.as_field_group }}", form=bound)
    assert "<script>x</script>" not in drawn
    assert "&lt;script&gt;x&lt;/script&gt;" in drawn
