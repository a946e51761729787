"""Description details: language, dates, outlets, agencies."""

from __future__ import annotations

import pytest

from newstrace.clean import fix_encoding
from newstrace.describe import agency_of, language_of, normalise_date, outlet_of
from newstrace.model import Article


@pytest.mark.parametrize("text,lang", [
    ("Der Bundeskanzler hat am Dienstag in Berlin gesagt, dass die Regierung die Steuern nicht erhöhen werde. "
     "Er sagte auch, die Wirtschaft wachse und die Arbeitslosigkeit sinke weiter.", "de"),
    ("Le président a déclaré mardi à Paris que le gouvernement n'augmentera pas les impôts. Il a également dit "
     "que l'économie progresse et que le chômage continue de baisser.", "fr"),
    ("The mayor said on Tuesday that the bridge, which was closed for repairs in March, would reopen next week "
     "and that the work had cost less than the city had feared. He thanked the crews for their work, and said "
     "the city would hold a small ceremony for residents who had waited for it to open.", "en"),
])
def test_language(text, lang):
    assert language_of(text) == lang


def test_dates_are_normalised():
    assert normalise_date("2024-03-05") == "2024-03-05"
    assert normalise_date("2024-03-05T10:00:00Z") == "2024-03-05T10:00+00:00"
    assert normalise_date("Tue, 05 Mar 2024 10:00:00 GMT") == "2024-03-05T10:00+00:00"
    assert normalise_date("sometime last week") == "sometime last week"


def test_outlet_from_url_and_agencies():
    a = Article(raw="x", ext_id="x", origin="x", url="https://www.example-news.com/world/1")
    assert outlet_of(a) == "example-news.com"
    assert agency_of("(Reporting by Jane Roe; Editing by Tom Poe)") is None
    assert agency_of("With files from The Associated Press") == "AP"
    assert agency_of("Source: News Agencies") == "agencies"
    assert agency_of("AFP contributed to this report") == "AFP"


def test_mojibake_is_repaired_and_clean_text_untouched():
    assert fix_encoding("Russiaâ€™s war") == "Russia’s war"
    assert fix_encoding("Russia’s “war”") == "Russia’s “war”"
    assert fix_encoding("Fish &amp; chips") == "Fish & chips"
