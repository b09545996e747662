"""Counts for viewers and reports follow NHS disclosure control."""
import pytest

from peerapp.disclosure import SUPPRESSED, disclose


@pytest.mark.parametrize("number, shown", [(0, 0), (1, SUPPRESSED), (7, SUPPRESSED), (8, 10), (12, 10),
                                           (13, 15), (100, 100), (1234, 1235)])
def test_small_numbers_are_suppressed_and_others_rounded_to_five(number, shown):
    assert disclose(number, limit=7) == shown


def test_the_limit_comes_from_the_config(app):
    app.config["SMALL_NUMBER_LIMIT"] = 10
    with app.app_context():
        assert disclose(9) == SUPPRESSED and disclose(11) == 10
